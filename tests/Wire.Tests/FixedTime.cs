namespace Gatehouse.Wire.Tests;

/// <summary>A clock stopped at <paramref name="now"/>, for rules judged by time.</summary>
internal sealed class FixedTime(DateTimeOffset now) : TimeProvider
{
    public override DateTimeOffset GetUtcNow() => now;
}
