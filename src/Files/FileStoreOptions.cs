namespace Gatehouse.Files;

/// <summary>Where files live and how much a request may ask of the store.</summary>
public sealed class FileStoreOptions
{
    /// <summary>
    /// Store roots, each holding <c>files/</c> and <c>tmp/</c>. Reads look in every root in order;
    /// uploads go to the first root with room. At least one is required.
    /// </summary>
    public IReadOnlyList<string> StoreRoots { get; set; } = [];

    /// <summary>Largest upload accepted; larger answers 413. Default 64 GiB.</summary>
    public long MaxUploadBytes { get; set; } = 64L << 30;

    /// <summary>
    /// Most ranges one Range header may list; more answers 416 (RFC 9110 §14.2 lets a server reject
    /// a Range with many ranges). Default 16.
    /// </summary>
    public int MaxRanges { get; set; } = 16;
}
