using Gatehouse.Http1;

namespace Gatehouse.Front;

/// <summary>
/// Issue 17 item 3: a path segment whose decoded form holds <c>/</c> or <c>\</c> came as <c>%2F</c> or
/// <c>%5C</c> (the parser refuses them raw inside a segment). The gateway judges it as one segment,
/// but a backend that decodes before it normalises (Python's http.server) reads <c>..%2F</c> as a
/// step up, out of the mount: the two would read the same bytes two ways (DESIGN.md decision 2).
/// </summary>
internal static class EncodedSlashes
{
    public const string Reason = "encoded / or \\ in a path segment (%2F, %5C)";

    /// <summary>True when any segment holds a decoded separator. By index and span: no allocation per request.</summary>
    public static bool In(CanonicalTarget target)
    {
        var segments = target.Segments;
        for (var i = 0; i < segments.Count; i++)
        {
            if (segments[i].AsSpan().IndexOfAny('/', '\\') >= 0)
            {
                return true;
            }
        }

        return false;
    }
}
