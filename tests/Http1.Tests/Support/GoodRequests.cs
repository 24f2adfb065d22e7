namespace Gatehouse.Http1.Tests.Support;

/// <summary>Well-formed request heads shared by the parser's split-point and bad-byte tests and the socket tests.</summary>
internal static class GoodRequests
{
    public const string Simple = "GET / HTTP/1.1\r\nHost: example.com\r\n\r\n";

    public const string WithQueryAndHeaders =
        "GET /db/doc%20one?rev=1-abc&x=%2F HTTP/1.1\r\nHost: gate.local:8443\r\nAccept: application/json\r\nUser-Agent: test/1.0\r\nX-Empty:\r\n\r\n";

    public const string PostWithLength = "POST /upload/file HTTP/1.1\r\nHost: [::1]:443\r\nContent-Length: 5\r\nContent-Type: text/plain\r\n\r\n";

    public const string PostChunked = "PUT /a/b HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n";

    public const string Http10 = "GET /old HTTP/1.0\r\n\r\n";

    public const string LeadingEmptyLine = "\r\nGET / HTTP/1.1\r\nHost: h\r\n\r\n";

    public const string OptionsAsterisk = "OPTIONS * HTTP/1.1\r\nHost: h\r\n\r\n";

    public const string AbsoluteForm = "GET http://example.com:8080/x/y?q=1 HTTP/1.1\r\nHost: example.com:8080\r\n\r\n";

    public static TheoryData<string> All => new()
    {
        Simple, WithQueryAndHeaders, PostWithLength, PostChunked, Http10, LeadingEmptyLine, OptionsAsterisk, AbsoluteForm,
    };
}
