using System.Collections.Generic;
using System.Collections.Immutable;
using System.Linq;
using System.Threading;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.CSharp.Syntax;
using StaticRnn.Generators.Common;
using StaticRnn.Generators.Diagnostics;

namespace StaticRnn.Generators.Parsing;

/// <summary>Reads a class carrying [RnnModel] and its layer attributes into a <see cref="ModelSpec"/>.
/// Only checks what needs the symbols (partial, generic, where attributes sit); everything about
/// sizes and shapes is checked later, on the spec.</summary>
internal static class ModelSpecParser
{
    public const string RnnModelAttributeName = "StaticRnn.RnnModelAttribute";

    private static readonly ImmutableDictionary<string, LayerKind> s_layerAttributes = new Dictionary<string, LayerKind>
    {
        ["StaticRnn.EmbeddingAttribute"] = LayerKind.Embedding,
        ["StaticRnn.LstmAttribute"] = LayerKind.Lstm,
        ["StaticRnn.GruAttribute"] = LayerKind.Gru,
        ["StaticRnn.SimpleRnnAttribute"] = LayerKind.SimpleRnn,
        ["StaticRnn.DenseAttribute"] = LayerKind.Dense,
        ["StaticRnn.DropoutAttribute"] = LayerKind.Dropout,
    }.ToImmutableDictionary();

    public static ModelSpec? Parse(GeneratorAttributeSyntaxContext context, CancellationToken cancellationToken)
    {
        if (context.TargetSymbol is not INamedTypeSymbol type || context.TargetNode is not TypeDeclarationSyntax declaration)
            return null;
        var modelAttribute = context.Attributes.FirstOrDefault();
        // An attribute the compiler could not bind already has a compiler error; add nothing to it.
        if (modelAttribute?.AttributeConstructor is null || modelAttribute.ConstructorArguments.Length != 1)
            return null;
        return ParseClass(type, declaration, modelAttribute, cancellationToken);
    }

    /// <summary>The class <paramref name="declaration"/> declares, with its model attribute (<c>[RnnModel]</c>, or
    /// <c>[RnnDecoder]</c>, whose first argument is also the weight file) and the layer attributes on that declaration.</summary>
    public static ModelSpec ParseClass(INamedTypeSymbol type, TypeDeclarationSyntax declaration, AttributeData modelAttribute, CancellationToken cancellationToken)
    {
        var diagnostics = new List<DiagnosticInfo>();
        var classLocation = LocationInfo.From(declaration.Identifier.GetLocation());

        if (declaration is RecordDeclarationSyntax)
            diagnostics.Add(DiagnosticInfo.Create(DiagnosticDescriptors.RecordModel, classLocation, type.Name));
        else if (!declaration.Modifiers.Any(SyntaxKind.PartialKeyword))
            diagnostics.Add(DiagnosticInfo.Create(DiagnosticDescriptors.ClassNotPartial, classLocation, type.Name));

        var containingTypes = new List<ContainingTypeSpec>();
        for (var outer = type.ContainingType; outer is not null; outer = outer.ContainingType)
        {
            if (!IsPartialEverywhere(outer, cancellationToken))
                diagnostics.Add(DiagnosticInfo.Create(DiagnosticDescriptors.ContainingTypeNotPartial, classLocation, type.Name, outer.Name));
            containingTypes.Insert(0, new ContainingTypeSpec(Keyword(outer), Identifier(outer.Name)));
        }

        // IsGenericType is also true for a type nested in a generic type; name the type that has the parameters.
        var generic = type.Arity > 0 ? type : ContainingTypes(type).FirstOrDefault(t => t.Arity > 0);
        if (generic is not null)
            diagnostics.Add(DiagnosticInfo.Create(DiagnosticDescriptors.GenericClass, classLocation, type.Name,
                generic.ToDisplayString(SymbolDisplayFormat.MinimallyQualifiedFormat)));

        var modelSyntax = modelAttribute.ApplicationSyntaxReference?.GetSyntax(cancellationToken) as AttributeSyntax;
        var named = NamedArguments(modelAttribute);

        var layers = new List<(int Position, LayerSpec Layer)>();
        foreach (var attribute in type.GetAttributes())
        {
            var name = attribute.AttributeClass?.ToDisplayString();
            // [Attention] and [Bridge] only mean something on a decoder: on a model they would be silently ignored.
            if (name is "StaticRnn.AttentionAttribute" or "StaticRnn.BridgeAttribute" && modelAttribute.AttributeClass?.ToDisplayString() == RnnModelAttributeName)
            {
                var misplaced = attribute.ApplicationSyntaxReference?.GetSyntax(cancellationToken) as AttributeSyntax;
                diagnostics.Add(DiagnosticInfo.Create(DiagnosticDescriptors.NotSupported, misplaced is null ? classLocation : LocationInfo.From(misplaced),
                    $"[{attribute.AttributeClass!.Name.Replace("Attribute", "")}] on an [RnnModel]",
                    "; it belongs on the decoder of an encoder-decoder: a class marked [RnnDecoder(weightsPath, typeof(Encoder))]"));
                continue;
            }
            if (name is null || !s_layerAttributes.TryGetValue(name, out var kind) || attribute.AttributeConstructor is null)
                continue;
            var syntax = attribute.ApplicationSyntaxReference?.GetSyntax(cancellationToken) as AttributeSyntax;
            if (syntax is null || syntax.SyntaxTree != declaration.SyntaxTree || !declaration.Span.Contains(syntax.Span))
            {
                diagnostics.Add(DiagnosticInfo.Create(DiagnosticDescriptors.LayerOnOtherDeclaration,
                    syntax is null ? classLocation : LocationInfo.From(syntax), attribute.AttributeClass!.Name.Replace("Attribute", "")));
                continue;
            }
            layers.Add((syntax.SpanStart, ParseLayer(kind, attribute, syntax)));
        }

        return new ModelSpec(
            Namespace: type.ContainingNamespace.IsGlobalNamespace ? null
                : string.Join(".", type.ContainingNamespace.ToDisplayParts().Where(p => p.Kind == SymbolDisplayPartKind.NamespaceName).Select(p => Identifier(p.ToString()))),
            ContainingTypes: containingTypes.ToEquatableArray(),
            ClassName: Identifier(type.Name),
            FullName: type.ToDisplayString(),
            WeightsPath: modelAttribute.ConstructorArguments[0].Value as string ?? "",
            SequenceLength: named.TryGetValue("SequenceLength", out var sequenceLength) ? sequenceLength.Value as int? : null,
            InputSize: named.TryGetValue("InputSize", out var inputSize) ? inputSize.Value as int? : null,
            Convention: named.TryGetValue("Convention", out var convention) && convention.Value is int c ? (WeightConvention)c : WeightConvention.PyTorch,
            Layers: layers.OrderBy(l => l.Position).Select(l => l.Layer).ToEquatableArray(),
            Location: LocationInfo.From(modelSyntax),
            ArgumentLocations: ArgumentLocationsOf(modelAttribute, modelSyntax),
            Diagnostics: diagnostics.ToEquatableArray());
    }

    private static LayerSpec ParseLayer(LayerKind kind, AttributeData attribute, AttributeSyntax syntax)
    {
        var args = attribute.ConstructorArguments;
        var named = NamedArguments(attribute);
        T Named<T>(string name, T fallback) => named.TryGetValue(name, out var value) && value.Value is T typed ? typed : fallback;
        int Positional(int index) => args.Length > index && args[index].Value is int value ? value : 0;

        return new LayerSpec(
            Kind: kind,
            Size: kind == LayerKind.Embedding ? Positional(1) : kind == LayerKind.Dropout ? 0 : Positional(0),
            VocabularySize: kind == LayerKind.Embedding ? Positional(0) : 0,
            Weights: Named<string?>("Weights", null),
            Layers: Named("Layers", 1),
            Bidirectional: Named("Bidirectional", false),
            ReturnSequences: Named("ReturnSequences", false),
            MergeMode: (MergeMode)Named("MergeMode", (int)MergeMode.Concat),
            Peephole: Named("Peephole", false),
            CoupledInputForget: Named("CoupledInputForget", false),
            ResetAfter: Named("ResetAfter", true),
            Activation: (Activation)Named("Activation", (int)(kind == LayerKind.SimpleRnn ? Activation.Tanh : Activation.None)),
            DropoutRate: kind == LayerKind.Dropout && args.Length > 0 && args[0].Value is float rate ? rate : 0f,
            Location: LocationInfo.From(syntax),
            ArgumentLocations: ArgumentLocationsOf(attribute, syntax),
            MaskZero: kind == LayerKind.Embedding && Named("MaskZero", false));
    }

    internal static Dictionary<string, TypedConstant> NamedArguments(AttributeData attribute)
    {
        var result = new Dictionary<string, TypedConstant>();
        foreach (var pair in attribute.NamedArguments)
            result[pair.Key] = pair.Value;
        return result;
    }

    /// <summary>Maps each written argument (positional ones by their parameter name) to its location.</summary>
    internal static EquatableArray<ArgumentLocation> ArgumentLocationsOf(AttributeData attribute, AttributeSyntax? syntax)
    {
        if (syntax?.ArgumentList is null)
            return EquatableArray<ArgumentLocation>.Empty;
        var parameters = attribute.AttributeConstructor?.Parameters ?? ImmutableArray<IParameterSymbol>.Empty;
        var result = new List<ArgumentLocation>();
        var position = 0;
        foreach (var argument in syntax.ArgumentList.Arguments)
        {
            var name = argument.NameEquals?.Name.Identifier.ValueText
                ?? argument.NameColon?.Name.Identifier.ValueText
                ?? (position < parameters.Length ? parameters[position++].Name : null);
            if (name is not null && LocationInfo.From(argument.Expression) is { } location)
                result.Add(new ArgumentLocation(name, location));
        }
        return result.ToEquatableArray();
    }

    /// <summary>A name as C# source must spell it: reserved keywords get '@'.</summary>
    private static string Identifier(string name) => SyntaxFacts.GetKeywordKind(name) != SyntaxKind.None ? "@" + name : name;

    private static bool IsPartialEverywhere(INamedTypeSymbol type, CancellationToken cancellationToken) =>
        type.DeclaringSyntaxReferences.All(r =>
            r.GetSyntax(cancellationToken) is TypeDeclarationSyntax d && d.Modifiers.Any(SyntaxKind.PartialKeyword));

    private static IEnumerable<INamedTypeSymbol> ContainingTypes(INamedTypeSymbol type)
    {
        for (var outer = type.ContainingType; outer is not null; outer = outer.ContainingType)
            yield return outer;
    }

    private static string Keyword(INamedTypeSymbol type) => (type.IsRecord, type.TypeKind) switch
    {
        (true, TypeKind.Struct) => "record struct",
        (true, _) => "record",
        (_, TypeKind.Struct) => "struct",
        (_, TypeKind.Interface) => "interface",
        _ => "class",
    };
}
