namespace Gatehouse.Http1.Tests.Fuzz;

/// <summary>
/// Findings of the chunk-size-line fuzz target (fuzz/Gatehouse.Fuzz/ChunkTarget.cs), which checks
/// <see cref="ChunkedBody.ParseChunkSizeLine"/> against the RFC 9112 §7.1.1 grammar:
/// chunk-ext = *( BWS ";" BWS chunk-ext-name [ BWS "=" BWS chunk-ext-val ] ).
/// </summary>
public sealed class ChunkSizeLineFuzzRegressionTests
{
    /// <summary>
    /// Whitespace may only stand before a ";" or around an "=", so "5;a " and "5;a=b " are not
    /// grammatical. The parser used to accept them (ValidateExtensions trimmed the whitespace after
    /// a name or value and then stopped at the end of the line); fixed in ChunkedBody.cs, now the rule
    /// of Http1Grammar.ParseChunkSizeLine that both directions share.
    /// </summary>
    [Fact]
    public void RefusesWhitespaceAtTheEndOfTheLineAfterAnExtension()
    {
        byte[][] lines =
        [
            [0x35, 0x3B, 0x61, 0x20], // "5;a "
            [0x35, 0x3B, 0x61, 0x3D, 0x62, 0x20], // "5;a=b "
            [0x31, 0x3B, 0x61, 0x3D, 0x22, 0x71, 0x22, 0x09], // "1;a=\"q\"\t"
        ];
        foreach (var line in lines)
        {
            var error = Assert.Throws<RequestRejectedException>(() => ChunkedBody.ParseChunkSizeLine(line));
            Assert.Equal(RejectReason.InvalidChunk, error.Reason);
        }
    }

    /// <summary>The grammatical neighbours of the finding, which a fix must keep accepting.</summary>
    [Fact]
    public void AcceptsWhitespaceBeforeASemicolonAndAroundAnEquals()
    {
        Assert.Equal(5, ChunkedBody.ParseChunkSizeLine([0x35, 0x20, 0x3B, 0x61])); // "5 ;a"
        Assert.Equal(5, ChunkedBody.ParseChunkSizeLine([0x35, 0x3B, 0x61, 0x20, 0x3B, 0x62])); // "5;a ;b"
        Assert.Equal(5, ChunkedBody.ParseChunkSizeLine([0x35, 0x3B, 0x61, 0x09, 0x3D, 0x20, 0x62])); // "5;a\t= b"
    }
}
