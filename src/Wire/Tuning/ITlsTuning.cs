using System.Net.Security;

namespace Gatehouse.Wire.Tuning;

/// <summary>
/// What the gate does to an accepted <see cref="SslStream"/> beyond .NET's public API to save memory
/// on idle connections (issue 9). Every reach into SslStream's private fields or libssl lives in this
/// folder, behind this interface; <see cref="TlsTuning.Create"/> gives <see cref="NoTlsTuning"/> when
/// switched off. No member throws or reports back: each attempt handles its own result (a runtime of
/// an unexpected shape turns that tuning off for the process, logged once), so callers have nothing to check.
/// </summary>
internal interface ITlsTuning
{
    /// <summary>What is active and what is not, for the one startup log line.</summary>
    string Summary { get; }

    /// <summary>
    /// True while handshakes may share .NET's cached SSL_CTX, because resumption is forbidden on it after
    /// each handshake; false: a context per connection where client certificates are asked for.
    /// </summary>
    bool CanShareContexts { get; }

    /// <summary>After an admitted handshake, before the stream's first read or write.</summary>
    void TuneAdmitted(SslStream stream);

    /// <summary>After a refused handshake whose session finished: its context still forbids resumption.</summary>
    void TuneRefused(SslStream stream);

    /// <summary>A connection that served a request, about to wait idle; only while no read or write is in flight.</summary>
    void TrimIdle(SslStream stream);
}
