namespace Gatehouse.Proxy;

/// <summary>One upstream node as the status page shows it: let in or skipped (passive health), and its connections.</summary>
public sealed record UpstreamNodeState(string Upstream, bool Up, int InUse, int Idle);
