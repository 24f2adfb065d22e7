namespace Gatehouse.Http1;

/// <summary>Why a request was refused. Each reason maps to one status code (see <see cref="RejectReasons"/>).</summary>
public enum RejectReason
{
    InvalidRequestLine,
    RequestLineTooLong,
    UnsupportedVersion,
    InvalidTarget,
    InvalidHeader,
    HeadersTooLarge,
    TooManyHeaders,
    ObsoleteLineFolding,
    BareLineFeed,
    MissingHost,
    InvalidHost,
    InvalidContentLength,
    ConflictingFraming,
    UnsupportedTransferEncoding,
    InvalidChunk,
    ChunkOverheadTooLarge,
    BodyTooLarge,
    UnexpectedEndOfBody,
    ExpectationFailed,
    HeaderTimeout,
    BodyTimeout,

    /// <summary>A route read the body and refused what it says (a design document without the grant).</summary>
    BodyForbidden,

    /// <summary>A route reads the body as JSON, and it is not.</summary>
    InvalidJsonBody,

    /// <summary>A route reads the body, and its coding or charset is one it cannot read.</summary>
    UnsupportedBodyEncoding,
}

/// <summary>Status codes and client-facing texts for <see cref="RejectReason"/>.</summary>
public static class RejectReasons
{
    public static int StatusCode(RejectReason reason) => reason switch
    {
        RejectReason.RequestLineTooLong => 414,
        RejectReason.UnsupportedVersion => 505,
        RejectReason.HeadersTooLarge or RejectReason.TooManyHeaders => 431,
        RejectReason.BodyTooLarge => 413,
        RejectReason.ExpectationFailed => 417,
        RejectReason.HeaderTimeout or RejectReason.BodyTimeout => 408,
        RejectReason.BodyForbidden => 403,
        RejectReason.UnsupportedBodyEncoding => 415,
        _ => 400,
    };

    public static string Text(RejectReason reason) => reason switch
    {
        RejectReason.InvalidRequestLine => "malformed request line",
        RejectReason.RequestLineTooLong => "request line too long",
        RejectReason.UnsupportedVersion => "only HTTP/1.0 and HTTP/1.1 are served",
        RejectReason.InvalidTarget => "request target is not a canonical origin-form path",
        RejectReason.InvalidHeader => "malformed header field",
        RejectReason.HeadersTooLarge => "header block too large",
        RejectReason.TooManyHeaders => "too many header fields",
        RejectReason.ObsoleteLineFolding => "obsolete line folding is not accepted",
        RejectReason.BareLineFeed => "line not terminated by CRLF",
        RejectReason.MissingHost => "HTTP/1.1 request without exactly one Host",
        RejectReason.InvalidHost => "malformed Host",
        RejectReason.InvalidContentLength => "malformed or duplicate Content-Length",
        RejectReason.ConflictingFraming => "Content-Length together with Transfer-Encoding",
        RejectReason.UnsupportedTransferEncoding => "only a single chunked transfer-coding is accepted",
        RejectReason.InvalidChunk => "malformed chunked body",
        RejectReason.ChunkOverheadTooLarge => "chunk extensions or trailers too large",
        RejectReason.BodyTooLarge => "request body too large",
        RejectReason.UnexpectedEndOfBody => "connection closed inside the request body",
        RejectReason.ExpectationFailed => "only 100-continue is understood in Expect",
        RejectReason.HeaderTimeout => "request header not received in time",
        RejectReason.BodyTimeout => "request body stalled",
        RejectReason.BodyForbidden => "request body refused",
        RejectReason.InvalidJsonBody => "request body is not valid JSON",
        RejectReason.UnsupportedBodyEncoding => "request body coding or charset not supported here",
        _ => "bad request",
    };
}
