using System.Buffers;
using System.Text;
using Gatehouse.Http1.Grammar;

namespace Gatehouse.Http1;

/// <summary>
/// Parses a request head (request line and header block) incrementally, one CRLF-terminated
/// line at a time, so a slow client never makes us re-scan what was already judged.
/// It does no I/O: <see cref="TryParse"/> returns false for "need more bytes" and throws
/// <see cref="RequestRejectedException"/> for malformed input. The caller owns AdvanceTo.
/// </summary>
internal sealed class RequestHeadParser
{
    private readonly Http1Limits _limits;
    private readonly RequestHeaders _headers = new(); // one per connection, emptied between requests
    private Request? _request; // one per connection too, restarted for each request
    private string? _method;
    private HttpVersion _version;
    private CanonicalTarget? _target;
    private CanonicalTarget? _previousTarget; // the connection's last target: its strings may be taken again
    private int _headerBytes;
    private int _leadingBytes;
    private bool _partialRequestLine;

    public RequestHeadParser(Http1Limits limits)
    {
        _limits = limits;
    }

    /// <summary>True once any byte of the current request was consumed (the header timeout then applies).</summary>
    public bool HasStarted => _method is not null || _leadingBytes > 0 || _partialRequestLine;

    /// <summary>The current request line was a HEAD: even an error answer to it carries no content (RFC 9110 §9.3.2).</summary>
    public bool IsHead => ReferenceEquals(_method, HttpMethods.Head);

    /// <summary>Forgets the current request so the next one can be parsed.</summary>
    public void Reset()
    {
        _headers.Clear();
        _method = null;
        _target = null;
        _headerBytes = 0;
        _leadingBytes = 0;
        _partialRequestLine = false;
    }

    /// <summary>
    /// Consumes complete lines from <paramref name="reader"/>. Returns true with the request when
    /// the blank line ending the header block has been read.
    /// </summary>
    public bool TryParse(ref SequenceReader<byte> reader, out Request? request)
    {
        request = null;
        while (_method is null)
        {
            if (!RequestGrammar.TryReadLine(ref reader, _limits.MaxRequestLineBytes - _leadingBytes, RejectReason.RequestLineTooLong, out var line))
            {
                // Part of a request line is buffered: the request has started, so a stall earns a 408.
                _partialRequestLine = !reader.End;
                return false;
            }

            if (line.IsEmpty)
            {
                // RFC 9112 §2.2: a server SHOULD ignore at least one empty line before the request line.
                _leadingBytes += 2;
                continue;
            }

            ParseRequestLine(line);
        }

        while (true)
        {
            var budget = _limits.MaxHeaderBytes - _headerBytes;
            if (!RequestGrammar.TryReadLine(ref reader, budget, RejectReason.HeadersTooLarge, out var line))
            {
                return false;
            }

            _headerBytes += line.Length + 2;
            if (line.IsEmpty)
            {
                _headers.TrimToCount();
                // The previous request's exchange is over (requests are served one at a time,
                // pipelined ones too), so its object can be the next request's.
                request = _request?.Restart(_method, _version, _target!) ?? (_request = new Request(_method, _version, _target!, _headers));
                RequestFramingRules.Apply(request, _limits);
                return true;
            }

            if (_headers.Count >= _limits.MaxHeaderCount)
            {
                RequestRejectedException.Throw(RejectReason.TooManyHeaders);
            }

            RequestGrammar.SplitFieldLine(line, out var name, out var value);
            _headers.Add(name, value);
        }
    }

    private void ParseRequestLine(ReadOnlySpan<byte> line)
    {
        // request-line = method SP request-target SP HTTP-version (RFC 9112 §3), single spaces only.
        var firstSpace = line.IndexOf((byte)' ');
        if (firstSpace <= 0 || line[..firstSpace].IndexOfAnyExcept(HttpCharacters.Token) >= 0)
        {
            RequestRejectedException.Throw(RejectReason.InvalidRequestLine);
        }

        var rest = line[(firstSpace + 1)..];
        var secondSpace = rest.IndexOf((byte)' ');
        if (secondSpace <= 0)
        {
            RequestRejectedException.Throw(RejectReason.InvalidRequestLine); // HTTP/0.9 or a doubled space.
        }

        var targetBytes = rest[..secondSpace];
        _version = ParseVersion(rest[(secondSpace + 1)..]);
        var method = HttpMethods.Intern(line[..firstSpace]);
        if (ReferenceEquals(method, HttpMethods.Connect))
        {
            RequestRejectedException.Throw(RejectReason.InvalidRequestLine); // We are not a forward proxy.
        }

        var target = CanonicalTarget.Parse(targetBytes, _previousTarget);
        _previousTarget = target;
        if (target.IsAsterisk && !ReferenceEquals(method, HttpMethods.Options))
        {
            RequestRejectedException.Throw(RejectReason.InvalidTarget); // RFC 9112 §3.2.4: "*" is for OPTIONS only.
        }

        _target = target;
        _method = method;
    }

    private static HttpVersion ParseVersion(ReadOnlySpan<byte> version)
    {
        if (version.SequenceEqual("HTTP/1.1"u8))
        {
            return HttpVersion.Http11;
        }

        if (version.SequenceEqual("HTTP/1.0"u8))
        {
            return HttpVersion.Http10;
        }

        // A well-formed HTTP-version we do not serve is 505; anything else is a malformed line.
        if (version.Length == 8 && version.StartsWith("HTTP/"u8) && char.IsAsciiDigit((char)version[5])
            && version[6] == (byte)'.' && char.IsAsciiDigit((char)version[7]))
        {
            RequestRejectedException.Throw(RejectReason.UnsupportedVersion);
        }

        RequestRejectedException.Throw(RejectReason.InvalidRequestLine);
        return default;
    }
}
