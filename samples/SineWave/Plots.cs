using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using ScottPlot;
using SkiaSharp;

namespace SineWave;

/// <summary>The PNG figures, drawn with ScottPlot: one per model, and one overview per training set.</summary>
internal static class Plots
{
    private const string FontName = "DejaVu Sans";
    private const int PanelWidth = 420;
    private const int PanelHeight = 250;
    private const int HeaderHeight = 64;
    private const int ColumnHeaderHeight = 32;

    // The waves shown: the first of Teste, and the first of each half of Teste2 (tools/make_sine_models.py puts the
    // waves below the training frequencies first, then those above them); the noisy sets hold the same waves.
    private const int TrainingRangeWave = 0;
    private const int LowFrequencyWave = 0;
    private const int HighFrequencyWave = 16;

    private static readonly Color InputColor = Color.FromHex("#9e9e9e");
    private static readonly Color TruthColor = Colors.Black;

    /// <summary>Writes the figures into <paramref name="directory"/> and returns their paths.</summary>
    public static List<string> Write(string directory, TestData data, Network[] networks, Evaluation[] evaluations)
    {
        Directory.CreateDirectory(directory);
        using var typeface = UseBundledFont();
        var files = new List<string>();
        var sets = SetIndices(data);

        // One figure per model: a wave of Teste and two of Teste2 (below and above the training frequencies) on top,
        // the same waves with noise underneath.
        for (var i = 0; i < networks.Length; i++)
        {
            var network = networks[i];
            var panels = new Plot[2, 3];
            var columns = new[] { (sets.Teste, TrainingRangeWave), (sets.Teste2, LowFrequencyWave), (sets.Teste2, HighFrequencyWave) };
            for (var c = 0; c < 3; c++)
            {
                var (set, wave) = columns[c];
                panels[0, c] = Panel(data, evaluations[i], network, set, wave, model: null);
                panels[1, c] = Panel(data, evaluations[i], network, set == sets.Teste ? sets.TesteNoisy : sets.Teste2Noisy, wave, model: null);
            }
            var title = $"{network.ClassName}: {Describe(network)}, {network.Parameters:N0} parameters, trained on {(network.TrainedOnNoise ? "noisy waves (Treino com ruído)" : "clean waves")}";
            files.Add(Save(Path.Combine(directory, $"{ToFileName(network.ClassName)}.png"), title, typeface, panels, [ModelColor(network)], columnHeaders: null));
        }

        // One overview per training set: every model (rows) on one wave of each test set (columns).
        foreach (var noisy in new[] { false, true })
        {
            var rows = Enumerable.Range(0, networks.Length).Where(i => networks[i].TrainedOnNoise == noisy).ToArray();
            var columns = new[] { (sets.Teste, TrainingRangeWave), (sets.Teste2, HighFrequencyWave), (sets.TesteNoisy, TrainingRangeWave), (sets.Teste2Noisy, HighFrequencyWave) };
            var panels = new Plot[rows.Length, columns.Length];
            for (var r = 0; r < rows.Length; r++)
            {
                for (var c = 0; c < columns.Length; c++)
                    panels[r, c] = Panel(data, evaluations[rows[r]], networks[rows[r]], columns[c].Item1, columns[c].Item2, networks[rows[r]].Architecture);
            }
            var title = $"Models trained on {(noisy ? "noisy waves (Treino com ruído)" : "clean waves")}: one wave of each test set";
            var colors = rows.Select(r => ModelColor(networks[r])).ToArray();
            var headers = columns.Select(c => $"{data.Sets[c.Item1].Name}, f = {data.Sets[c.Item1].Frequencies[c.Item2]:F3}").ToArray();
            files.Add(Save(Path.Combine(directory, noisy ? "overview_noisy.png" : "overview.png"), title, typeface, panels, colors, headers));
        }
        return files;
    }

    private static (int Teste, int Teste2, int TesteNoisy, int Teste2Noisy) SetIndices(TestData data)
    {
        int Find(string name) => Array.FindIndex(data.Sets, s => s.Name == name) is var i and >= 0
            ? i
            : throw new InvalidDataException($"sine_test.json has no test set '{name}'.");
        return (Find("Teste"), Find("Teste2"), Find("Teste com ruído"), Find("Teste2 com ruído"));
    }

    /// <summary>One wave: the input (gray), the true continuation (black, dashed) and the prediction (in the
    /// model's color). The title names the set, the wave's frequency and the prediction's MSE, or, in an overview
    /// (whose column headers name the set and the wave), the <paramref name="model"/> and the MSE.</summary>
    private static Plot Panel(TestData data, Evaluation evaluation, Network network, int set, int wave, string? model)
    {
        var testSet = data.Sets[set];
        var input = testSet.Inputs[wave];
        var truth = testSet.Truth[wave];
        var prediction = evaluation.Predictions[set][wave];
        var inputSteps = Enumerable.Range(0, input.Length).Select(t => (double)t).ToArray();
        var outputSteps = Enumerable.Range(input.Length, truth.Length).Select(t => (double)t).ToArray();

        var plot = new Plot();
        var inputLine = plot.Add.ScatterLine(inputSteps, input.Select(v => (double)v).ToArray(), InputColor);
        inputLine.LineWidth = 1.5f;
        var truthLine = plot.Add.ScatterLine(outputSteps, truth.Select(v => (double)v).ToArray(), TruthColor);
        truthLine.LineWidth = 1.5f;
        truthLine.LinePattern = LinePattern.Dashed;
        var predictionLine = plot.Add.ScatterLine(outputSteps, prediction.Select(v => (double)v).ToArray(), ModelColor(network));
        predictionLine.LineWidth = 2.5f;
        var divider = plot.Add.VerticalLine(input.Length - 0.5, 1, Colors.Gray.WithAlpha(0.6));
        divider.LinePattern = LinePattern.Dotted;

        plot.Axes.SetLimits(0, input.Length + truth.Length - 1, -1.8, 1.8);
        var mse = evaluation.WaveMse(data, set, wave);
        plot.Title(model is null ? $"{testSet.Name}, f = {testSet.Frequencies[wave]:F3}: MSE {mse:F4}" : $"{model}: MSE {mse:F4}", size: 14);
        plot.Axes.Bottom.Label.Text = "sample";
        plot.Axes.Bottom.Label.FontSize = 12;
        return plot;
    }

    private static Color ModelColor(Network network) => network.Architecture switch
    {
        "MLP 100×100" => Color.FromHex("#7b1fa2"),
        "RNN 8" => Color.FromHex("#ef6c00"),
        "LSTM 8" => Color.FromHex("#1565c0"),
        "GRU 8" => Color.FromHex("#2e7d32"),
        _ => Color.FromHex("#c62828"),
    };

    private static string Describe(Network network) => network.HeadParameters == 0
        ? "MLP 100 → 100 (tanh) → 100"
        : $"{network.Architecture} + Dense 100";

    /// <summary>SineGru64Noisy → sine_gru64_noisy, the name of its weight file.</summary>
    private static string ToFileName(string className) =>
        string.Concat(className.Select((ch, i) => i > 0 && char.IsUpper(ch) ? "_" + char.ToLowerInvariant(ch) : char.ToLowerInvariant(ch).ToString()));

    /// <summary>Lays the panels out in a grid under a header (the title and the legend, whose prediction line shows
    /// <paramref name="predictionColors"/>), with <paramref name="columnHeaders"/> above the columns if there are any,
    /// and writes the PNG.</summary>
    private static string Save(string path, string title, SKTypeface typeface, Plot[,] panels, Color[] predictionColors, string[]? columnHeaders)
    {
        var rows = panels.GetLength(0);
        var columns = panels.GetLength(1);
        var top = HeaderHeight + (columnHeaders is null ? 0 : ColumnHeaderHeight);
        var width = columns * PanelWidth;
        var height = top + rows * PanelHeight;
        using var surface = SKSurface.Create(new SKImageInfo(width, height)) ?? throw new InvalidOperationException("SkiaSharp could not create a surface.");
        var canvas = surface.Canvas;
        canvas.Clear(SKColors.White);

        using var titleFont = new SKFont(typeface, 20);
        using var legendFont = new SKFont(typeface, 14);
        using var text = new SKPaint { Color = SKColors.Black, IsAntialias = true };
        canvas.DrawText(title, 16, 28, titleFont, text);
        var x = 16f;
        foreach (var (label, colors, dashed) in new[]
                 {
                     ("input: 100 samples", new[] { InputColor }, false),
                     ("truth: the next 100", new[] { TruthColor }, true),
                     (predictionColors.Length == 1 ? "prediction" : "prediction (one color per model)", predictionColors, false),
                 })
        {
            // The legend's line, in one segment per color.
            const float Length = 30;
            var segment = Length / colors.Length;
            for (var k = 0; k < colors.Length; k++)
            {
                using var line = new SKPaint { Color = colors[k].ToSKColor(), StrokeWidth = 2.5f, IsAntialias = true, Style = SKPaintStyle.Stroke };
                if (dashed)
                    line.PathEffect = SKPathEffect.CreateDash([6, 4], 0);
                canvas.DrawLine(x + k * segment, 48, x + (k + 1) * segment, 48, line);
            }
            canvas.DrawText(label, x + Length + 8, 53, legendFont, text);
            x += Length + 8 + legendFont.MeasureText(label) + 28;
        }

        if (columnHeaders is not null)
        {
            using var headerFont = new SKFont(typeface, 17);
            for (var c = 0; c < columns; c++)
            {
                var headerWidth = headerFont.MeasureText(columnHeaders[c]);
                canvas.DrawText(columnHeaders[c], c * PanelWidth + (PanelWidth - headerWidth) / 2, HeaderHeight + 24, headerFont, text);
            }
        }

        for (var r = 0; r < rows; r++)
        {
            for (var c = 0; c < columns; c++)
            {
                // Each panel on a surface of its own: a plot fills its whole canvas with its background.
                using var panel = SKSurface.Create(new SKImageInfo(PanelWidth, PanelHeight))
                    ?? throw new InvalidOperationException("SkiaSharp could not create a surface.");
                panels[r, c].Render(panel.Canvas, PanelWidth, PanelHeight);
                using var snapshot = panel.Snapshot();
                canvas.DrawImage(snapshot, c * PanelWidth, top + r * PanelHeight);
            }
        }

        using var image = surface.Snapshot();
        using var png = image.Encode(SKEncodedImageFormat.Png, 100);
        using (var file = File.Create(path))
            png.SaveTo(file);
        return path;
    }

    /// <summary>Draws every text with the DejaVu Sans subset in fonts/ (copied next to the program), so that the
    /// plots look the same everywhere and need no font installed.</summary>
    private static SKTypeface UseBundledFont()
    {
        var directory = Path.Combine(AppContext.BaseDirectory, "fonts");
        var regular = Path.Combine(directory, "DejaVuSans.ttf");
        Fonts.AddFontFile(FontName, regular, bold: false, italic: false);
        Fonts.AddFontFile(FontName, Path.Combine(directory, "DejaVuSans-Bold.ttf"), bold: true, italic: false);
        Fonts.Default = FontName;
        return SKTypeface.FromFile(regular) ?? throw new FileNotFoundException("The plots' font is missing.", regular);
    }
}
