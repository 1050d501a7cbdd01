using System.Collections.Generic;
using System.Linq;
using System.Threading;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp.Syntax;
using StaticRnn.Generators.Common;
using StaticRnn.Generators.Diagnostics;

namespace StaticRnn.Generators.Parsing;

/// <summary>Reads a class carrying [RnnDecoder] into a <see cref="DecoderSpec"/>: the class like a model
/// (<see cref="ModelSpecParser.ParseClass"/>), plus [Attention], [Bridge] and the encoder class named by typeof.</summary>
internal static class DecoderSpecParser
{
    public const string RnnDecoderAttributeName = "StaticRnn.RnnDecoderAttribute";
    private const string AttentionAttributeName = "StaticRnn.AttentionAttribute";
    private const string BridgeAttributeName = "StaticRnn.BridgeAttribute";

    public static DecoderSpec? Parse(GeneratorAttributeSyntaxContext context, CancellationToken cancellationToken)
    {
        if (context.TargetSymbol is not INamedTypeSymbol type || context.TargetNode is not TypeDeclarationSyntax declaration)
            return null;
        var decoderAttribute = context.Attributes.FirstOrDefault();
        // An attribute the compiler could not bind already has a compiler error; add nothing to it.
        if (decoderAttribute?.AttributeConstructor is null || decoderAttribute.ConstructorArguments.Length != 2)
            return null;
        var model = ModelSpecParser.ParseClass(type, declaration, decoderAttribute, cancellationToken);
        var named = ModelSpecParser.NamedArguments(decoderAttribute);
        int? Named(string name) => named.TryGetValue(name, out var value) ? value.Value as int? : null;

        // Number every attribute on the declaration in source order, as messages count layers.
        var positions = new List<int>();
        var attentions = new List<(int Position, AttributeData Data, AttributeSyntax Syntax)>();
        var bridges = new List<(int Position, AttributeData Data, AttributeSyntax Syntax)>();
        var extra = new List<DiagnosticInfo>();
        foreach (var attribute in type.GetAttributes())
        {
            var name = attribute.AttributeClass?.ToDisplayString();
            if (name is not (AttentionAttributeName or BridgeAttributeName) || attribute.AttributeConstructor is null)
                continue;
            if (attribute.ApplicationSyntaxReference?.GetSyntax(cancellationToken) is not AttributeSyntax syntax
                || syntax.SyntaxTree != declaration.SyntaxTree || !declaration.Span.Contains(syntax.Span))
            {
                // As for layers: on another part of the class it would be dropped, and a decoder without its bridge may still compile.
                var other = attribute.ApplicationSyntaxReference?.GetSyntax(cancellationToken);
                extra.Add(DiagnosticInfo.Create(DiagnosticDescriptors.LayerOnOtherDeclaration,
                    other is null ? model.Location : LocationInfo.From(other), attribute.AttributeClass!.Name.Replace("Attribute", "")));
                continue;
            }
            switch (name)
            {
                case AttentionAttributeName:
                    attentions.Add((syntax.SpanStart, attribute, syntax));
                    break;
                case BridgeAttributeName:
                    bridges.Add((syntax.SpanStart, attribute, syntax));
                    break;
            }
        }
        var layerStarts = model.Layers.Select(l => l.Location?.Span.Start ?? 0).ToList();
        var order = layerStarts.Concat(attentions.Select(a => a.Position)).Concat(bridges.Select(b => b.Position)).OrderBy(p => p).ToList();
        int Number(int position) => order.IndexOf(position) + 1;

        var attentionSpecs = attentions.Select(a =>
        {
            var args = ModelSpecParser.NamedArguments(a.Data);
            return new AttentionSpec(
                Units: a.Data.ConstructorArguments.Length > 0 && a.Data.ConstructorArguments[0].Value is int units ? units : 0,
                Weights: args.TryGetValue("Weights", out var w) ? w.Value as string : null,
                Number: Number(a.Position),
                Location: LocationInfo.From(a.Syntax),
                ArgumentLocations: ModelSpecParser.ArgumentLocationsOf(a.Data, a.Syntax));
        }).ToEquatableArray();
        var bridgeSpecs = bridges.Select(b =>
        {
            var args = ModelSpecParser.NamedArguments(b.Data);
            return new BridgeSpec(
                Weights: args.TryGetValue("Weights", out var w) ? w.Value as string : null,
                CellWeights: args.TryGetValue("CellWeights", out var c) ? c.Value as string : null,
                Activation: args.TryGetValue("Activation", out var a) && a.Value is int activation ? (Activation)activation : Activation.Tanh,
                Number: Number(b.Position),
                Location: LocationInfo.From(b.Syntax),
                ArgumentLocations: ModelSpecParser.ArgumentLocationsOf(b.Data, b.Syntax));
        }).ToEquatableArray();

        if (type.GetAttributes().Any(a => a.AttributeClass?.ToDisplayString() == ModelSpecParser.RnnModelAttributeName))
            extra.Add(DiagnosticInfo.Create(DiagnosticDescriptors.DecoderLayout, model.Location, model.ClassName,
                "a class is either a model ([RnnModel]) or a decoder ([RnnDecoder]); declare the encoder as its own class and name it with typeof"));
        if (extra.Count > 0)
            model = model with { Diagnostics = model.Diagnostics.Concat(extra).ToEquatableArray() };

        var (encoder, problem, encoderName) = ParseEncoder(decoderAttribute.ConstructorArguments[1].Value as INamedTypeSymbol, cancellationToken);
        return new DecoderSpec(
            Model: model,
            LayerNumbers: layerStarts.Select(Number).ToEquatableArray(),
            Attentions: attentionSpecs,
            Bridges: bridgeSpecs,
            EncoderName: encoderName,
            Encoder: encoder,
            EncoderProblem: problem,
            MaxLength: Named("MaxLength"),
            StartToken: Named("StartToken") ?? 0,
            EndToken: Named("EndToken") ?? 1);
    }

    /// <summary>The encoder's declaration, parsed as its own model is; its diagnostics are its model's, reported there.</summary>
    private static (ModelSpec? Encoder, string? Problem, string Name) ParseEncoder(INamedTypeSymbol? type, CancellationToken cancellationToken)
    {
        if (type is null || type.TypeKind == TypeKind.Error)
            return (null, "it is not a type this project knows", type?.Name ?? "?");
        var name = type.ToDisplayString(SymbolDisplayFormat.MinimallyQualifiedFormat);
        var attribute = type.GetAttributes().FirstOrDefault(a => a.AttributeClass?.ToDisplayString() == ModelSpecParser.RnnModelAttributeName);
        if (attribute is null || attribute.AttributeConstructor is null || attribute.ConstructorArguments.Length != 1)
            return (null, "it has no [RnnModel] attribute", name);
        if (attribute.ApplicationSyntaxReference?.GetSyntax(cancellationToken) is not AttributeSyntax syntax
            || syntax.Parent?.Parent is not TypeDeclarationSyntax declaration)
            return (null, "it is declared in another assembly; the decoder needs the encoder compiled in the same project", name);
        // Its diagnostics are reported on the encoder's own model; the decoder only needs to know there are errors.
        return (ModelSpecParser.ParseClass(type, declaration, attribute, cancellationToken), null, name);
    }
}
