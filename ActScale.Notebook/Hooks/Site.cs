using System.Text.RegularExpressions;

namespace ActScale.Hooks;

/// <summary>The kinds of activation vector a block exposes by name.</summary>
public enum SiteKind
{
    /// <summary>Block input: the residual stream before the block.</summary>
    ResidPre,
    /// <summary>Attention output after its projection and bias, before the residual add.</summary>
    AttnOut,
    /// <summary>MLP output after its projection and bias, before the residual add.</summary>
    MlpOut,
    /// <summary>Block output: the residual stream after the block.</summary>
    ResidPost,
    /// <summary>
    /// Every attention head's output before the output projection, [batch, position, heads · head width] with head h
    /// in features h·hd to (h+1)·hd − 1 (named <c>blocks.{l}.attn.head_out</c>; <c>--sites attn_head</c>).
    /// </summary>
    AttnHead,
}

/// <summary>A named activation site, <c>blocks.{layer}.{kind}</c>.</summary>
public readonly partial record struct Site(int Layer, SiteKind Kind)
{
    public static string KindName(SiteKind kind) => kind switch
    {
        SiteKind.ResidPre => "resid_pre",
        SiteKind.AttnOut => "attn_out",
        SiteKind.MlpOut => "mlp_out",
        SiteKind.ResidPost => "resid_post",
        SiteKind.AttnHead => "attn.head_out",
        _ => throw new ArgumentOutOfRangeException(nameof(kind)),
    };

    public static SiteKind ParseKind(string name) => name.Trim().ToLowerInvariant() switch
    {
        "resid_pre" => SiteKind.ResidPre,
        "attn_out" or "attnout" => SiteKind.AttnOut,
        "mlp_out" or "mlpout" => SiteKind.MlpOut,
        "resid_post" => SiteKind.ResidPost,
        "attn.head_out" or "attn_head" => SiteKind.AttnHead,
        _ => throw new ArgumentException($"Unknown site kind '{name}'. Known kinds: resid_pre, attn_out, mlp_out, resid_post, attn_head (attn.head_out)."),
    };

    public static Site Parse(string name)
    {
        var match = SitePattern().Match(name.Trim());
        if (!match.Success)
            throw new ArgumentException($"'{name}' is not a site name. Site names look like 'blocks.3.attn_out'.");
        return new Site(int.Parse(match.Groups[1].Value), ParseKind(match.Groups[2].Value));
    }

    public override string ToString() => $"blocks.{Layer}.{KindName(Kind)}";

    [GeneratedRegex(@"^blocks\.(\d+)\.(\w+(?:\.\w+)?)$")]
    private static partial Regex SitePattern();
}
