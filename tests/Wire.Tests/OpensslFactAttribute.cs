namespace Gatehouse.Wire.Tests;

/// <summary>A fact that needs the openssl command: skipped, saying so, where it is not installed.</summary>
public sealed class OpensslFactAttribute : FactAttribute
{
    public OpensslFactAttribute()
    {
        if (!Installed)
        {
            Skip = "openssl is not on PATH (Debian: apt-get install openssl); these tests read what openssl s_client prints";
        }
    }

    private static bool Installed { get; } = (Environment.GetEnvironmentVariable("PATH") ?? "")
        .Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries)
        .Any(folder => File.Exists(Path.Combine(folder, "openssl")));
}
