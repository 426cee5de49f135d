using Microsoft.DotNet.Interactive.Formatting;

namespace ActScale.Notebook;

/// <summary>
/// HTML that ActScale displays. Its own type (with a text/html formatter) rather than ASP.NET's HtmlString, whose
/// assembly version differs between the kernel hosts and the compile-time package.
/// </summary>
public sealed record ActScaleHtml(string Html)
{
    private static int _registered;

    /// <summary>Registers the text/html formatter (idempotent).</summary>
    public static void RegisterFormatter()
    {
        if (Interlocked.Exchange(ref _registered, 1) == 1) return;
        Formatter.Register<ActScaleHtml>((value, writer) => writer.Write(value.Html), "text/html");
        Formatter.Register<ActScaleHtml>((value, writer) => writer.Write(PlainText(value.Html)), "text/plain");
    }

    private static string PlainText(string html) =>
        System.Net.WebUtility.HtmlDecode(System.Text.RegularExpressions.Regex.Replace(
            System.Text.RegularExpressions.Regex.Replace(html, "<script.*?</script>", "", System.Text.RegularExpressions.RegexOptions.Singleline), "<[^>]+>", " "));

    public override string ToString() => Html;
}
