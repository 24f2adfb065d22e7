namespace Gatehouse.Http1.Grammar;

/// <summary>
/// Why bytes broke the HTTP/1.1 grammar, whichever side sent them. The grammar only names the
/// fault; each direction's adapter turns it into its own exception and status.
/// </summary>
public enum GrammarFault : byte
{
    /// <summary>The bytes are grammatical.</summary>
    None,

    /// <summary>No line end within the budget the caller passed in.</summary>
    LineTooLong,

    /// <summary>A line ended in LF without CR (RFC 9112 §2.2: we do not guess).</summary>
    BareLineFeed,

    /// <summary>A field line began with whitespace (obs-fold, RFC 9112 §5.2).</summary>
    ObsoleteLineFolding,

    /// <summary>No colon, an empty name, or a non-token byte (whitespace included) before the colon.</summary>
    InvalidFieldName,

    /// <summary>A control byte (CR, LF, NUL …) in a field value.</summary>
    InvalidFieldValue,

    /// <summary>A chunk-size line that does not start with a hex digit.</summary>
    InvalidChunkSize,

    /// <summary>A chunk size that does not fit a non-negative 64-bit integer.</summary>
    ChunkSizeTooLarge,

    /// <summary>Bytes after the chunk size that are not chunk-ext (RFC 9112 §7.1.1).</summary>
    InvalidChunkExtension,

    /// <summary>Chunk data not followed by exactly CRLF.</summary>
    ChunkDataNotTerminated,

    /// <summary>A chunk-size line (extensions included) passed the budget the caller passed in.</summary>
    ChunkLineTooLong,

    /// <summary>The trailer section passed the budget the caller passed in.</summary>
    TrailersTooLarge,
}

/// <summary>Short texts for <see cref="GrammarFault"/>, fit for a log line or an error body.</summary>
public static class GrammarFaults
{
    public static string Text(GrammarFault fault) => fault switch
    {
        GrammarFault.LineTooLong => "line too long",
        GrammarFault.BareLineFeed => "line not terminated by CRLF",
        GrammarFault.ObsoleteLineFolding => "obsolete line folding",
        GrammarFault.InvalidFieldName => "invalid field name",
        GrammarFault.InvalidFieldValue => "invalid byte in field value",
        GrammarFault.InvalidChunkSize => "invalid chunk size",
        GrammarFault.ChunkSizeTooLarge => "chunk size too large",
        GrammarFault.InvalidChunkExtension => "invalid chunk extension",
        GrammarFault.ChunkDataNotTerminated => "chunk data not followed by CRLF",
        GrammarFault.ChunkLineTooLong => "chunk-size line too long",
        GrammarFault.TrailersTooLarge => "trailer section too large",
        _ => "grammatical",
    };
}
