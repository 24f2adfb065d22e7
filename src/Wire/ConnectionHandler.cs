namespace Gatehouse.Wire;

/// <summary>
/// Serves one accepted, authenticated connection. The server disposes the connection when the task
/// ends. <paramref name="stopping"/> fires when the server is shutting down: finish the request in
/// hand and return; connections still running when the grace period ends are aborted
/// (<see cref="WireConnection.Aborted"/> fires, then the socket closes).
/// </summary>
public delegate Task ConnectionHandler(WireConnection connection, CancellationToken stopping);
