using System;
using System.IO;
using System.Linq;
using ScottPlot;

namespace Translator;

/// <summary>The attention weights of one translation as a heat map: output characters down, source characters across,
/// as in Bahdanau et al.'s figure of French against English.</summary>
internal static class AlignmentPlot
{
    private const string FontName = "DejaVu Sans";

    public static void Write(string path, string text, Vocabulary vocabulary, int[] tokens, float[] attention, int steps)
    {
        var fonts = Path.Combine(AppContext.BaseDirectory, "fonts");
        Fonts.AddFontFile(FontName, Path.Combine(fonts, "DejaVuSans.ttf"), bold: false, italic: false);
        Fonts.AddFontFile(FontName, Path.Combine(fonts, "DejaVuSans-Bold.ttf"), bold: true, italic: false);
        Fonts.Default = FontName;

        // Source positions shown: the characters and EOS (the padding after it gets almost no weight).
        var columns = text.Length + 1;
        var weights = new double[steps, columns];
        for (var t = 0; t < steps; t++)
        {
            for (var j = 0; j < columns; j++)
                weights[t, j] = attention[t * DateDecoder.SourceLength + j];
        }

        var plot = new Plot();
        var heatmap = plot.Add.Heatmap(weights);
        heatmap.Colormap = new ScottPlot.Colormaps.Viridis();
        // Cell (t, j) centred on x = j and, row 0 at the top, on y = steps - 1 - t, where the ticks are.
        heatmap.Position = new CoordinateRect(0, columns - 1, 0, steps - 1);
        plot.Add.ColorBar(heatmap);
        var sourceLabels = Enumerable.Range(0, columns).Select(j => j < text.Length ? (text[j] == ' ' ? "␣" : text[j].ToString()) : "EOS").ToArray();
        var targetLabels = Enumerable.Range(0, steps).Select(t => vocabulary.TargetCharacter(tokens[t])).ToArray();
        plot.Axes.Bottom.SetTicks(Enumerable.Range(0, columns).Select(j => (double)j).ToArray(), sourceLabels);
        plot.Axes.Left.SetTicks(Enumerable.Range(0, steps).Select(t => (double)(steps - 1 - t)).ToArray(), targetLabels);
        plot.Axes.Bottom.Label.Text = "source: \"" + text + "\"";
        plot.Axes.Left.Label.Text = "output";
        plot.Title($"Attention of the date translator (StaticRnn, Bahdanau attention)");
        plot.SavePng(path, 900, 480);
    }
}
