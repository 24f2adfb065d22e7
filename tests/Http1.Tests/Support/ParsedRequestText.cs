namespace Gatehouse.Http1.Tests.Support;

/// <summary>
/// A stable text of everything the parser decided about a request, to compare one feeding of the
/// same bytes with another. The fuzz targets compile this same file (fuzz/Gatehouse.Fuzz links it),
/// so the tests and the fuzzer judge "parsed the same" alike.
/// </summary>
public static class ParsedRequestText
{
    public static string Of(Request request) =>
        string.Join(
            "|",
            request.Method,
            request.Version,
            request.Target.ToOriginForm(),
            request.Target.Authority ?? "-",
            request.Host,
            request.Framing,
            request.ContentLength,
            request.KeepAlive,
            request.ExpectContinue,
            request.IsUpgrade,
            string.Join(";", request.Headers.Select(h => h.Name + "=" + h.Value)));
}
