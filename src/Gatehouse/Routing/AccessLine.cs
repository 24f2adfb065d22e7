using System.Collections;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text.Json;
using Gatehouse.Http1;
using Gatehouse.Logging;

namespace Gatehouse.Routing;

/// <summary>
/// One request's access line (category <c>Gatehouse.Access</c>): its values typed. The JSON line
/// logger has it write its message and properties straight into the line (<see cref="IJsonLineState"/>),
/// with no message string, path string or boxed number; any other logger reads the usual list of
/// properties and <see cref="ToString"/>. The canonical path only, never the query (it may carry secrets).
/// </summary>
internal sealed class AccessLine(
    string method, CanonicalTarget target, int status, string pin, string subject, IPEndPoint remote, string route,
    long bytesIn, long bytesOut, double durationMs, string refusal) : IReadOnlyList<KeyValuePair<string, object?>>, IJsonLineState
{
    private const string AnsweredFormat =
        "{Method} {Path} {Status} principal={Pin} subject={Subject} remote={Remote} route={Route} in={BytesIn} out={BytesOut} ms={DurationMs}{Refusal}";

    private const string ForwardedFormat =
        "{Method} {Path} {Status} principal={Pin} subject={Subject} remote={Remote} route={Route} in={BytesIn} out={BytesOut} ms={DurationMs} upstreamFirstByteMs={UpstreamFirstByteMs} upstreamTotalMs={UpstreamTotalMs}{Refusal}";

    private static readonly JsonEncodedText AnsweredFormatJson = JsonEncodedText.Encode(AnsweredFormat);
    private static readonly JsonEncodedText ForwardedFormatJson = JsonEncodedText.Encode(ForwardedFormat);
    private static readonly string[] AnsweredNames = ["Method", "Path", "Status", "Pin", "Subject", "Remote", "Route", "BytesIn", "BytesOut", "DurationMs", "Refusal"];
    private static readonly string[] ForwardedNames = ["Method", "Path", "Status", "Pin", "Subject", "Remote", "Route", "BytesIn", "BytesOut", "DurationMs", "UpstreamFirstByteMs", "UpstreamTotalMs", "Refusal"];
    private static readonly JsonEncodedText[] ForwardedNamesJson = [.. ForwardedNames.Select(name => JsonEncodedText.Encode(name))];
    private static readonly JsonEncodedText OriginalFormatJson = JsonEncodedText.Encode("{OriginalFormat}");

    [ThreadStatic]
    private static char[]? t_message;

    private bool _forwarded;
    private double _upstreamFirstByteMs;
    private double _upstreamTotalMs;

    /// <summary>The event id: 0 for a request the gateway answered itself, 1 for a forwarded one.</summary>
    public int EventId => _forwarded ? 1 : 0;

    /// <summary>Forwarded: how long the upstream took to its first answer byte (-1: none came) and to its end.</summary>
    public AccessLine Upstream(double firstByteMs, double totalMs)
    {
        _forwarded = true;
        _upstreamFirstByteMs = firstByteMs;
        _upstreamTotalMs = totalMs;
        return this;
    }

    public int Count => (_forwarded ? ForwardedNames.Length : AnsweredNames.Length) + 1;

    public KeyValuePair<string, object?> this[int index]
    {
        get
        {
            var names = _forwarded ? ForwardedNames : AnsweredNames;
            if (index == names.Length)
            {
                return new("{OriginalFormat}", _forwarded ? ForwardedFormat : AnsweredFormat);
            }

            return new(names[index], names[index] switch
            {
                "Method" => method,
                "Path" => target.Path,
                "Status" => status,
                "Pin" => pin,
                "Subject" => subject,
                "Remote" => remote,
                "Route" => route,
                "BytesIn" => bytesIn,
                "BytesOut" => bytesOut,
                "DurationMs" => durationMs,
                "UpstreamFirstByteMs" => _upstreamFirstByteMs,
                "UpstreamTotalMs" => _upstreamTotalMs,
                _ => refusal,
            });
        }
    }

    public IEnumerator<KeyValuePair<string, object?>> GetEnumerator()
    {
        for (var i = 0; i < Count; i++)
        {
            yield return this[i];
        }
    }

    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();

    public override string ToString() => new(Message());

    public void WriteMessage(Utf8JsonWriter json) => json.WriteString(JsonLineNames.Message, Message());

    /// <summary>The message in this thread's buffer, grown until it fits; valid until the thread's next line.</summary>
    private ReadOnlySpan<char> Message()
    {
        var buffer = t_message ??= new char[512];
        int written;
        while (!TryWriteMessage(buffer, out written))
        {
            buffer = t_message = new char[buffer.Length * 2];
        }

        return buffer.AsSpan(0, written);
    }

    public void WriteProperties(Utf8JsonWriter json)
    {
        var names = ForwardedNamesJson;
        json.WriteString(names[0], method);
        Span<char> text = stackalloc char[256];
        if (target.TryWritePath(text, out var written))
        {
            json.WriteString(names[1], text[..written]);
        }
        else
        {
            json.WriteString(names[1], target.Path);
        }

        json.WriteNumber(names[2], status);
        json.WriteString(names[3], pin);
        json.WriteString(names[4], subject);
        json.WriteString(names[5], TryWriteRemote(text, out written) ? text[..written] : remote.ToString());
        json.WriteString(names[6], route);
        json.WriteNumber(names[7], bytesIn);
        json.WriteNumber(names[8], bytesOut);
        json.WriteNumber(names[9], durationMs);
        if (_forwarded)
        {
            json.WriteNumber(names[10], _upstreamFirstByteMs);
            json.WriteNumber(names[11], _upstreamTotalMs);
        }

        json.WriteString(names[12], refusal);
        json.WriteString(OriginalFormatJson, _forwarded ? ForwardedFormatJson : AnsweredFormatJson);
    }

    /// <summary>The message, as the format above makes it (invariant numbers); false when it does not fit.</summary>
    private bool TryWriteMessage(Span<char> destination, out int written)
    {
        var culture = CultureInfo.InvariantCulture;
        written = 0;
        if (!destination.TryWrite(culture, $"{method} ", out var part))
        {
            return false;
        }

        written += part;
        if (!target.TryWritePath(destination[written..], out part))
        {
            return false;
        }

        written += part;
        if (!destination[written..].TryWrite(culture, $" {status} principal={pin} subject={subject} remote=", out part))
        {
            return false;
        }

        written += part;
        if (!TryWriteRemote(destination[written..], out part))
        {
            return false;
        }

        written += part;
        if (!destination[written..].TryWrite(culture, $" route={route} in={bytesIn} out={bytesOut} ms={durationMs}", out part))
        {
            return false;
        }

        written += part;
        if (_forwarded)
        {
            if (!destination[written..].TryWrite(culture, $" upstreamFirstByteMs={_upstreamFirstByteMs} upstreamTotalMs={_upstreamTotalMs}", out part))
            {
                return false;
            }

            written += part;
        }

        if (!refusal.TryCopyTo(destination[written..]))
        {
            return false;
        }

        written += refusal.Length;
        return true;
    }

    /// <summary>The remote end point as <see cref="IPEndPoint.ToString"/> writes it ("[::1]:5000" for IPv6).</summary>
    private bool TryWriteRemote(Span<char> destination, out int written)
    {
        var v6 = remote.AddressFamily == AddressFamily.InterNetworkV6;
        written = 0;
        if (v6)
        {
            if (destination.IsEmpty)
            {
                return false;
            }

            destination[written++] = '[';
        }

        if (!remote.Address.TryFormat(destination[written..], out var part))
        {
            return false;
        }

        written += part;
        if (!destination[written..].TryWrite(CultureInfo.InvariantCulture, $"{(v6 ? "]:" : ":")}{remote.Port}", out part))
        {
            return false;
        }

        written += part;
        return true;
    }
}
