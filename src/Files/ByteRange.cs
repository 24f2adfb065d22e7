namespace Gatehouse.Files;

/// <summary>A satisfiable byte range of a file: <see cref="Start"/> and a positive <see cref="Length"/>.</summary>
internal readonly record struct ByteRange(long Start, long Length)
{
    /// <summary>The last byte's offset, as Content-Range writes it (inclusive).</summary>
    public long End => Start + Length - 1;
}
