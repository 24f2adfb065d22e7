namespace Gatehouse.Observability;

/// <summary>The outcome of the last reload (issue 7), for logs and the status endpoint.</summary>
/// <param name="Time">When the reload ran (UTC).</param>
/// <param name="Succeeded">True when the new identity and trust are in force; false when the old ones stayed.</param>
/// <param name="Error">Why the reload failed (names the file and field), or null.</param>
/// <param name="RevokedConnections">Open connections closed because their key is no longer trusted.</param>
public sealed record ReloadStatus(DateTimeOffset Time, bool Succeeded, string? Error, int RevokedConnections);
