using Microsoft.Extensions.Logging;

namespace Gatehouse.Wire.Tuning;

/// <summary>
/// One tuning's off switch for this process: the first attempt that meets a runtime of an unexpected
/// shape logs why, once, and from then on the tuning is not tried again (connections are served as
/// .NET leaves them). A saving must never cost a connection, so a failure is never thrown.
/// </summary>
internal sealed class FirstFailure(ILogger logger, string tuning)
{
    private int _failed;

    public bool HasFailed => Volatile.Read(ref _failed) != 0;

    public void Record(string reason)
    {
        if (Interlocked.Exchange(ref _failed, 1) == 0)
        {
            WireLog.TlsTuningFailed(logger, tuning, reason);
        }
    }
}
