using System.Buffers;
using System.Diagnostics.CodeAnalysis;

namespace Gatehouse.Http1.Grammar;

/// <summary>
/// The client-side adapter of <see cref="Http1Grammar"/>: a fault becomes a
/// <see cref="RequestRejectedException"/> whose reason picks the status (400, 414, 431).
/// </summary>
internal static class RequestGrammar
{
    /// <summary>As <see cref="Http1Grammar.TryReadLine"/>; a line past <paramref name="budget"/> is refused with <paramref name="tooLong"/>.</summary>
    public static bool TryReadLine(ref SequenceReader<byte> reader, int budget, RejectReason tooLong, out ReadOnlySpan<byte> line)
    {
        if (Http1Grammar.TryReadLine(ref reader, budget, out line, out var fault))
        {
            return true;
        }

        if (fault != GrammarFault.None)
        {
            Throw(fault, tooLong);
        }

        return false;
    }

    public static void SplitFieldLine(ReadOnlySpan<byte> line, out ReadOnlySpan<byte> name, out ReadOnlySpan<byte> value)
    {
        var fault = Http1Grammar.SplitFieldLine(line, out name, out value);
        if (fault != GrammarFault.None)
        {
            Throw(fault, RejectReason.HeadersTooLarge);
        }
    }

    public static RejectReason Reason(GrammarFault fault, RejectReason tooLong) => fault switch
    {
        GrammarFault.LineTooLong => tooLong,
        GrammarFault.BareLineFeed => RejectReason.BareLineFeed,
        GrammarFault.ObsoleteLineFolding => RejectReason.ObsoleteLineFolding,
        GrammarFault.InvalidFieldName or GrammarFault.InvalidFieldValue => RejectReason.InvalidHeader,
        GrammarFault.ChunkLineTooLong or GrammarFault.TrailersTooLarge => RejectReason.ChunkOverheadTooLarge,
        _ => RejectReason.InvalidChunk,
    };

    [DoesNotReturn]
    public static void Throw(GrammarFault fault, RejectReason tooLong) => throw new RequestRejectedException(Reason(fault, tooLong));
}
