namespace Gatehouse.Files;

/// <summary>What a Range header asks of a file of a given size (RFC 9110 §14.2).</summary>
internal enum RangeOutcome
{
    /// <summary>No Range, a unit other than bytes, or a malformed header: serve the whole file (200), as §14.2 says.</summary>
    Ignore,

    /// <summary>At least one range is satisfiable: 206 with those ranges.</summary>
    Satisfiable,

    /// <summary>Well formed, but no range overlaps the file: 416 with <c>Content-Range: bytes */size</c>.</summary>
    NotSatisfiable,

    /// <summary>More ranges than the store allows: refused with 416 (§14.2 lets a server reject many ranges).</summary>
    TooManyRanges,

    /// <summary>Two ranges ask for the same bytes: refused with 416 (the overlapping-ranges abuse of §14.2 and CVE-2011-3192).</summary>
    Overlapping,
}
