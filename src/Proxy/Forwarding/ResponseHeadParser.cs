using System.Buffers;
using System.Text;
using Gatehouse.Http1;
using Gatehouse.Http1.Grammar;

namespace Gatehouse.Proxy;

/// <summary>
/// The upstream's status line and header block (RFC 9112 §4, §5), parsed strictly and within
/// bounds. No I/O: returns false for "need more bytes" (the reader is left where it started) and
/// throws <see cref="UpstreamProtocolException"/> for anything malformed or ambiguous — which
/// the forwarder answers with 502 and a closed upstream connection.
/// </summary>
internal static class ResponseHeadParser
{
    /// <summary>Status line plus header block. CouchDB's heads are a few hundred bytes.</summary>
    public const int MaxHeadBytes = 64 * 1024;

    public const int MaxFields = 256;

    public static bool TryParse(ref SequenceReader<byte> reader, out UpstreamResponseHead? head)
    {
        var into = new UpstreamResponseHead();
        head = TryParse(ref reader, into) ? into : null;
        return head is not null;
    }

    /// <summary>Parses into <paramref name="head"/> (an upstream connection's own, reused for each of its answers).</summary>
    public static bool TryParse(ref SequenceReader<byte> reader, UpstreamResponseHead head)
    {
        var start = reader.Consumed;
        if (!UpstreamGrammar.TryReadLine(ref reader, MaxHeadBytes, out var statusLine, "upstream status line"))
        {
            return false;
        }

        var (version, status) = ParseStatusLine(statusLine);
        var connectionTokens = 0;
        long contentLength = -1;
        var contentLengthFields = 0;
        var chunkedOnly = false;
        var transferEncodingFields = 0;
        var close = version == HttpVersion.Http10; // HTTP/1.0 upstreams are never reused
        head.BeginFields();

        while (true)
        {
            var budget = MaxHeadBytes - (int)(reader.Consumed - start);
            if (!UpstreamGrammar.TryReadLine(ref reader, budget, out var line, "upstream header block"))
            {
                if (reader.Consumed - start + reader.Remaining > MaxHeadBytes)
                {
                    UpstreamProtocolException.Throw("upstream header block too large");
                }

                reader.Rewind(reader.Consumed - start);
                return false;
            }

            if (line.IsEmpty)
            {
                break;
            }

            if (head.FieldCount == MaxFields)
            {
                UpstreamProtocolException.Throw("too many upstream header fields");
            }

            UpstreamGrammar.SplitFieldLine(line, out var name, out var value);
            head.AddField(name, value);

            if (Ascii.EqualsIgnoreCase(name, KnownHeaderNames.ContentLength))
            {
                contentLengthFields++;
                contentLength = ParseContentLength(value);
            }
            else if (Ascii.EqualsIgnoreCase(name, KnownHeaderNames.TransferEncoding))
            {
                transferEncodingFields++;
                chunkedOnly = Ascii.EqualsIgnoreCase(value, "chunked"u8);
            }
            else if (Ascii.EqualsIgnoreCase(name, KnownHeaderNames.Connection))
            {
                foreach (var range in value.Split((byte)','))
                {
                    var token = value[range].Trim(" \t"u8);
                    if (Ascii.EqualsIgnoreCase(token, "close"u8))
                    {
                        close = true;
                    }

                    if (!token.IsEmpty)
                    {
                        head.SetConnectionToken(connectionTokens++, token);
                    }
                }
            }
        }

        // RFC 9112 §6.1 / §6.3: framing must be unambiguous. A gateway refuses, rather than repairs,
        // any doubt: two Content-Lengths (even equal), CL with TE, or a coding other than chunked.
        if (contentLengthFields > 1)
        {
            UpstreamProtocolException.Throw("duplicate Content-Length from upstream");
        }

        var chunked = false;
        if (transferEncodingFields > 0)
        {
            if (contentLengthFields > 0)
            {
                UpstreamProtocolException.Throw("Content-Length with Transfer-Encoding from upstream");
            }

            if (transferEncodingFields > 1 || !chunkedOnly)
            {
                UpstreamProtocolException.Throw("unsupported Transfer-Encoding from upstream");
            }

            chunked = true;
        }

        head.Complete(version, status, contentLength, chunked, close, connectionTokens);
        return true;
    }

    /// <summary>RFC 9112 §4: HTTP-version SP 3DIGIT SP [reason-phrase]; "HTTP/1.1 301" without SP is tolerated.</summary>
    private static (HttpVersion Version, int Status) ParseStatusLine(ReadOnlySpan<byte> line)
    {
        HttpVersion version;
        if (line.StartsWith("HTTP/1.1 "u8))
        {
            version = HttpVersion.Http11;
        }
        else if (line.StartsWith("HTTP/1.0 "u8))
        {
            version = HttpVersion.Http10;
        }
        else
        {
            UpstreamProtocolException.Throw("invalid upstream status line");
            return default;
        }

        var rest = line[9..];
        if (rest.Length < 3 || rest[0] is < (byte)'1' or > (byte)'5' || !char.IsAsciiDigit((char)rest[1]) || !char.IsAsciiDigit((char)rest[2]))
        {
            UpstreamProtocolException.Throw("invalid upstream status code");
        }

        var status = ((rest[0] - '0') * 100) + ((rest[1] - '0') * 10) + (rest[2] - '0');
        var reason = rest[3..];
        if (!reason.IsEmpty && (reason[0] != (byte)' ' || !Http1Grammar.IsFieldText(reason)))
        {
            UpstreamProtocolException.Throw("invalid upstream reason phrase");
        }

        return (version, status);
    }

    private static long ParseContentLength(ReadOnlySpan<byte> value)
    {
        // 1*DIGIT only: no sign, no list ("5, 5"), at most 18 digits so it cannot overflow.
        if (value.IsEmpty || value.Length > 18 || value.IndexOfAnyExceptInRange((byte)'0', (byte)'9') >= 0)
        {
            UpstreamProtocolException.Throw("invalid Content-Length from upstream");
        }

        long length = 0;
        foreach (var digit in value)
        {
            length = checked((length * 10) + (digit - '0'));
        }

        return length;
    }
}
