using System.Text;

namespace Gatehouse.Http1;

/// <summary>
/// Decides, once, how a request's body is delimited and whether the connection stays open,
/// refusing every ambiguity a front end and a back end could read differently (RFC 9112 §6).
/// </summary>
internal static class RequestFramingRules
{
    public static void Apply(Request request, Http1Limits limits)
    {
        var headers = request.Headers;
        ApplyHost(request, headers);

        var contentLengthCount = headers.CountOf(KnownHeaderNames.ContentLength);
        var transferEncodingCount = headers.CountOf(KnownHeaderNames.TransferEncoding);
        if (transferEncodingCount > 0)
        {
            if (contentLengthCount > 0)
            {
                // RFC 9112 §6.3 lets a server drop CL and go on; we refuse: it is the classic smuggling setup.
                RequestRejectedException.Throw(RejectReason.ConflictingFraming);
            }

            if (request.Version == HttpVersion.Http10)
            {
                // RFC 9112 §6.1: TE in an HTTP/1.0 message means faulty framing.
                RequestRejectedException.Throw(RejectReason.UnsupportedTransferEncoding);
            }

            RequireSingleChunked(headers);
            request.Framing = BodyFraming.Chunked;
        }
        else if (contentLengthCount > 0)
        {
            if (contentLengthCount > 1)
            {
                // Stricter than RFC 9110 §8.6's MAY: identical duplicates are refused too.
                RequestRejectedException.Throw(RejectReason.InvalidContentLength);
            }

            var length = ParseContentLength(headers[KnownHeaderNames.ContentLength]!);
            if (length > limits.MaxRequestBodyBytes)
            {
                RequestRejectedException.Throw(RejectReason.BodyTooLarge);
            }

            request.Framing = BodyFraming.ContentLength;
            request.ContentLength = length;
        }

        ApplyConnection(request, headers);
        ApplyExpect(request, headers);
    }

    private static void ApplyHost(Request request, RequestHeaders headers)
    {
        var hostCount = headers.CountOf(KnownHeaderNames.Host);
        if (hostCount > 1 || (hostCount == 0 && request.Version == HttpVersion.Http11))
        {
            RequestRejectedException.Throw(RejectReason.MissingHost); // RFC 9112 §3.2: MUST answer 400.
        }

        if (hostCount == 1)
        {
            var host = headers[KnownHeaderNames.Host]!;
            if (!IsValidHost(host))
            {
                RequestRejectedException.Throw(RejectReason.InvalidHost);
            }

            request.Host = host;
        }

        if (request.Target.Authority is { } authority)
        {
            request.Host = authority; // RFC 9112 §3.2.2: the target's authority replaces Host.
        }
    }

    private static bool IsValidHost(string host)
    {
        Span<byte> bytes = stackalloc byte[256];
        return host.Length <= bytes.Length
            && Encoding.Latin1.GetBytes(host, bytes) == host.Length
            && HostValidator.IsValid(bytes[..host.Length]);
    }

    private static void RequireSingleChunked(RequestHeaders headers)
    {
        // We implement no transfer-coding but chunked, so the only acceptable list is one "chunked"
        // (empty list elements are ignored, RFC 9110 §5.6.1). "chunked, chunked" or "gzip, chunked" are refused.
        var chunkedSeen = false;
        foreach (var value in headers.GetValues(KnownHeaderNames.TransferEncoding))
        {
            foreach (var range in value.AsSpan().Split(','))
            {
                var element = value.AsSpan(range).Trim(" \t");
                if (element.IsEmpty)
                {
                    continue;
                }

                if (chunkedSeen || !element.Equals("chunked", StringComparison.OrdinalIgnoreCase))
                {
                    RequestRejectedException.Throw(RejectReason.UnsupportedTransferEncoding);
                }

                chunkedSeen = true;
            }
        }

        if (!chunkedSeen)
        {
            RequestRejectedException.Throw(RejectReason.UnsupportedTransferEncoding);
        }
    }

    /// <summary>Content-Length = 1*DIGIT; leading zeros allowed, lists, signs and overflow refused.</summary>
    internal static long ParseContentLength(string text)
    {
        if (text.Length == 0 || text.AsSpan().ContainsAnyExceptInRange('0', '9'))
        {
            RequestRejectedException.Throw(RejectReason.InvalidContentLength);
        }

        long value = 0;
        foreach (var c in text)
        {
            if (value > (long.MaxValue - 9) / 10)
            {
                RequestRejectedException.Throw(RejectReason.InvalidContentLength);
            }

            value = (value * 10) + (c - '0');
        }

        return value;
    }

    private static void ApplyConnection(Request request, RequestHeaders headers)
    {
        var close = headers.HasToken(KnownHeaderNames.Connection, "close");
        request.KeepAlive = request.Version == HttpVersion.Http11
            ? !close
            : !close && headers.HasToken(KnownHeaderNames.Connection, "keep-alive");
        request.IsUpgrade = request.Version == HttpVersion.Http11
            && headers.HasToken(KnownHeaderNames.Connection, "upgrade")
            && headers.Contains(KnownHeaderNames.Upgrade);
    }

    private static void ApplyExpect(Request request, RequestHeaders headers)
    {
        var count = headers.CountOf(KnownHeaderNames.Expect);
        if (count == 0)
        {
            return;
        }

        // RFC 9110 §10.1.1: 100-continue is the only expectation; anything else may be answered 417.
        if (count > 1 || !headers[KnownHeaderNames.Expect]!.Equals("100-continue", StringComparison.OrdinalIgnoreCase))
        {
            RequestRejectedException.Throw(RejectReason.ExpectationFailed);
        }

        request.ExpectContinue = request.Version == HttpVersion.Http11;
    }
}
