namespace Gatehouse.Cli;

/// <summary>Exit codes every command uses: 0 ok, 1 runtime failure, 2 usage or config error.</summary>
internal static class ExitCodes
{
    public const int Ok = 0;
    public const int Failure = 1;
    public const int Usage = 2;
}
