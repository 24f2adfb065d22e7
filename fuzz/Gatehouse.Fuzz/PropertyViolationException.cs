namespace Gatehouse.Fuzz;

/// <summary>A fuzz property did not hold. Thrown out of a target, it is a crash to the fuzzer.</summary>
public sealed class PropertyViolationException : Exception
{
    public PropertyViolationException()
    {
    }

    public PropertyViolationException(string message)
        : base(message)
    {
    }

    public PropertyViolationException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
