using System.Net.Security;
using Microsoft.Extensions.Logging;

namespace Gatehouse.Wire.Tuning;

/// <summary>
/// Every tuning this runtime has the shape for: <see cref="OpenSslTuning"/> and <see cref="IdleBioTrim"/>
/// (Linux, OpenSSL 3.x) and <see cref="ChainPolicyRelease"/>. One a runtime lacks is named in
/// <see cref="Summary"/> and never tried.
/// </summary>
internal sealed class TlsTuning : ITlsTuning
{
    private readonly OpenSslTuning _openSsl;
    private readonly IdleBioTrim _idleTrim;
    private readonly ChainPolicyRelease _chainPolicy;

    private TlsTuning(ILogger logger)
    {
        _openSsl = new OpenSslTuning(logger);
        _idleTrim = new IdleBioTrim(logger);
        _chainPolicy = new ChainPolicyRelease(logger);
    }

    /// <summary>The tuning a server uses: this one when <paramref name="enabled"/>, else <see cref="NoTlsTuning"/>.</summary>
    public static ITlsTuning Create(bool enabled, ILogger logger) => enabled ? new TlsTuning(logger) : NoTlsTuning.Instance;

    public string Summary
    {
        get
        {
            (string Name, string? Unsupported)[] parts =
            [
                (OpenSslTuning.Name, OpenSslAccess.Unsupported),
                (IdleBioTrim.Name, OpenSslAccess.Unsupported),
                (ChainPolicyRelease.Name, ChainPolicyRelease.Unsupported),
            ];
            string active = string.Join(", ", parts.Where(p => p.Unsupported is null).Select(p => p.Name));
            string missing = string.Join("; ", parts.Where(p => p.Unsupported is not null).Select(p => $"{p.Name} ({p.Unsupported})"));
            return (active.Length == 0 ? "on, but nothing applies on this runtime" : $"on: {active}")
                + (missing.Length == 0 ? string.Empty : $"; not available: {missing}");
        }
    }

    public bool CanShareContexts => _openSsl.CanShareContexts;

    public void TuneAdmitted(SslStream stream)
    {
        _openSsl.Apply(stream);
        _chainPolicy.Release(stream);
    }

    public void TuneRefused(SslStream stream) => _openSsl.Apply(stream);

    public void TrimIdle(SslStream stream) => _idleTrim.Trim(stream);
}
