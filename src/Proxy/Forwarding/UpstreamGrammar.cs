using System.Buffers;
using System.Diagnostics.CodeAnalysis;
using Gatehouse.Http1.Grammar;

namespace Gatehouse.Proxy;

/// <summary>
/// The upstream-side adapter of <see cref="Http1Grammar"/>: the same rules that judge a client,
/// with a fault turned into <see cref="UpstreamProtocolException"/> (502, connection not reused).
/// </summary>
internal static class UpstreamGrammar
{
    /// <summary>As <see cref="Http1Grammar.TryReadLine"/>; <paramref name="what"/> names the line in the error.</summary>
    public static bool TryReadLine(ref SequenceReader<byte> reader, int maxLength, out ReadOnlySpan<byte> line, string what)
    {
        if (Http1Grammar.TryReadLine(ref reader, maxLength, out line, out var fault))
        {
            return true;
        }

        if (fault != GrammarFault.None)
        {
            Throw(fault, what);
        }

        return false;
    }

    /// <summary>A header or trailer line split into name and value, or a throw.</summary>
    public static void SplitFieldLine(ReadOnlySpan<byte> line, out ReadOnlySpan<byte> name, out ReadOnlySpan<byte> value)
    {
        var fault = Http1Grammar.SplitFieldLine(line, out name, out value);
        if (fault != GrammarFault.None)
        {
            Throw(fault, "upstream header");
        }
    }

    [DoesNotReturn]
    public static void Throw(GrammarFault fault, string what) => throw new UpstreamProtocolException(fault switch
    {
        GrammarFault.LineTooLong => what + " too long",
        GrammarFault.BareLineFeed => "bare LF in " + what, // RFC 9112 §2.2: we do not guess
        _ => GrammarFaults.Text(fault) + " in " + what,
    });
}
