using System.Net;
using System.Text;
using Gatehouse.Http1;

namespace Gatehouse.Front;

/// <summary>
/// The gateway's own answers on proxy routes (issue 5): a small HTML page when a browser asks
/// (<c>Accept</c> names text/html), the usual JSON otherwise. Only the status and a fixed reason,
/// never a backend address or exception text.
/// </summary>
internal static class ErrorPages
{
    public static bool WantsHtml(Request request)
    {
        foreach (var value in request.Headers.GetValues("Accept"))
        {
            if (value.Contains("text/html", StringComparison.OrdinalIgnoreCase))
            {
                return true;
            }
        }

        return false;
    }

    public static ValueTask SendAsync(Request request, HttpResponse response, int status, string reason, CancellationToken cancellationToken)
    {
        if (!WantsHtml(request))
        {
            return response.SendErrorAsync(status, reason, cancellationToken);
        }

        var title = $"{status} {StatusText.Reason(status)}";
        var html = $"""
            <!DOCTYPE html>
            <html lang="en"><head><meta charset="utf-8"><title>{WebUtility.HtmlEncode(title)}</title></head>
            <body><h1>{WebUtility.HtmlEncode(title)}</h1><p>{WebUtility.HtmlEncode(Sentence(reason))}</p><hr><p>gatehouse</p></body></html>

            """;
        response.Headers.Set("Cache-Control", "no-store");
        return response.SendAsync(status, "text/html; charset=utf-8", Encoding.UTF8.GetBytes(html), cancellationToken);
    }

    private static string Sentence(string reason) => reason.Length == 0 ? reason : char.ToUpperInvariant(reason[0]) + reason[1..] + ".";
}
