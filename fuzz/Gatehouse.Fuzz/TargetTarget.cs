using System.Text;
using Gatehouse.Http1;

namespace Gatehouse.Fuzz;

/// <summary>
/// Target 2: <see cref="CanonicalTarget.Parse"/>. An accepted target must re-serialize to an
/// origin-form that parses back to the same segments, trailing slash and query, and whose own
/// re-serialization is the same text (idempotent). The same holds with a mount prefix left out
/// (ToOriginForm(skip)), which is what the forwarder sends to a route's backend.
/// </summary>
internal static class TargetTarget
{
    public static void Run(byte[] input)
    {
        CanonicalTarget target;
        try
        {
            target = CanonicalTarget.Parse(input);
        }
        catch (RequestRejectedException e) when (e.Reason == RejectReason.InvalidTarget)
        {
            return;
        }

        CheckRoundTrip(target);
    }

    public static void CheckRoundTrip(CanonicalTarget target)
    {
        if (target.IsAsterisk)
        {
            var form = target.ToOriginForm();
            if (form != "*" || !Reparse(form, 0).IsAsterisk)
            {
                throw new PropertyViolationException($"asterisk-form re-serialized as <{form}>");
            }

            return;
        }

        for (var skip = 0; skip <= target.Segments.Count; skip++)
        {
            var form = target.ToOriginForm(skip);
            var again = Reparse(form, skip);
            var expected = target.Segments.Skip(skip).ToArray();
            var trailing = target.HasTrailingSlash && skip < target.Segments.Count;
            if (!again.Segments.SequenceEqual(expected, StringComparer.Ordinal)
                || again.HasTrailingSlash != trailing
                || !string.Equals(again.Query, target.Query, StringComparison.Ordinal)
                || again.Authority is not null
                || again.IsAsterisk)
            {
                throw new PropertyViolationException(
                    $"ToOriginForm({skip}) = <{form}> parses back to [{Show(again.Segments)}] slash={again.HasTrailingSlash} query=<{again.Query}>, "
                    + $"expected [{Show(expected)}] slash={trailing} query=<{target.Query}>");
            }

            var twice = again.ToOriginForm();
            if (!string.Equals(twice, form, StringComparison.Ordinal))
            {
                throw new PropertyViolationException($"re-serialization is not idempotent: <{form}> then <{twice}>");
            }
        }
    }

    private static CanonicalTarget Reparse(string form, int skip)
    {
        foreach (var c in form)
        {
            if (c <= ' ' || c >= 0x7F)
            {
                throw new PropertyViolationException($"ToOriginForm({skip}) = <{form}> holds byte 0x{(int)c:X2}, which cannot go on a request line");
            }
        }

        try
        {
            return CanonicalTarget.Parse(Encoding.ASCII.GetBytes(form));
        }
        catch (RequestRejectedException e)
        {
            throw new PropertyViolationException($"ToOriginForm({skip}) = <{form}> is rejected when parsed again ({e.Reason})", e);
        }
    }

    private static string Show(IEnumerable<string> segments) =>
        string.Join(", ", segments.Select(s => "\"" + string.Concat(s.Select(c => c is >= ' ' and < (char)0x7F ? c.ToString() : $"\\u{(int)c:X4}")) + "\""));
}
