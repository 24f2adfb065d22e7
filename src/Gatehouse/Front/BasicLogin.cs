using System.Net;
using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.Logging;

namespace Gatehouse.Front;

/// <summary>What a Basic login attempt came to.</summary>
internal enum LoginOutcome
{
    /// <summary>No (usable) Basic credentials were sent.</summary>
    None,
    Accepted,
    Rejected,

    /// <summary>The source address is waiting out its delay after failures; nothing was checked.</summary>
    Throttled,
}

/// <summary>
/// HTTP Basic (RFC 7617) against a <see cref="UsersFile"/>, issue 5. A successful check is cached
/// for <see cref="CacheFor"/> under a SHA-256 of (file version, user, password), so a page's many
/// requests cost one PBKDF2 run and the cache holds no password. Failures are throttled per source
/// address and logged with the user name only. Unknown users cost a PBKDF2 run too, so timing does
/// not tell which names exist.
/// </summary>
internal sealed class BasicLogin
{
    public static readonly TimeSpan CacheFor = TimeSpan.FromMinutes(2);
    private const int MaxCached = 1024;
    private static readonly PasswordHash Decoy = PasswordHash.Create("decoy", Convert.ToBase64String(RandomNumberGenerator.GetBytes(16)));
    private readonly UsersFile _users;
    private readonly LoginThrottle _throttle;
    private readonly ILogger _logger;
    private readonly Dictionary<string, long> _verified = new(StringComparer.Ordinal); // key hash -> expiry (TickCount64 ms)
    private readonly Lock _lock = new();

    public BasicLogin(UsersFile users, LoginThrottle throttle, ILogger logger)
    {
        _users = users;
        _throttle = throttle;
        _logger = logger;
    }

    /// <summary>Checks the request's <c>Authorization: Basic …</c>. The user is set when accepted.</summary>
    public (LoginOutcome Outcome, string? User, TimeSpan RetryAfter) Check(string? authorization, IPAddress source, string route)
    {
        if (!TryDecode(authorization, out var user, out var password))
        {
            return (LoginOutcome.None, null, TimeSpan.Zero);
        }

        _users.Refresh(); // a changed file voids cached logins (the key holds its version)
        var key = CacheKey(user, password);
        if (IsCached(key))
        {
            return (LoginOutcome.Accepted, user, TimeSpan.Zero);
        }

        var wait = _throttle.RetryAfter(source);
        if (wait > TimeSpan.Zero)
        {
            _logger.LogWarning("basic login throttled: user={User} remote={Remote} route={Route} retryAfter={Seconds}s", user, source, route, Math.Ceiling(wait.TotalSeconds));
            return (LoginOutcome.Throttled, null, wait);
        }

        var entry = _users.Find(user);
        if (_users.LastError is { } error)
        {
            _logger.LogError("users file not reloaded, the last good one stays in use: {Error}", error);
        }

        var ok = (entry ?? Decoy).Verify(password) && entry is not null;
        if (!ok)
        {
            var (failures, delay) = _throttle.Fail(source);
            // The password is never logged, not even in part.
            _logger.LogWarning("basic login failed: user={User} remote={Remote} route={Route} failures={Failures} nextDelay={Delay}s", user, source, route, failures, delay.TotalSeconds);
            return (LoginOutcome.Rejected, null, delay);
        }

        _throttle.Succeed(source);
        Remember(key);
        return (LoginOutcome.Accepted, user, TimeSpan.Zero);
    }

    /// <summary>RFC 7617 §2: base64 of user-id ":" password, UTF-8 (§2.1), scheme case-insensitive.</summary>
    public static bool TryDecode(string? authorization, out string user, out string password)
    {
        user = password = string.Empty;
        if (authorization is null || !authorization.StartsWith("Basic ", StringComparison.OrdinalIgnoreCase))
        {
            return false;
        }

        var bytes = new byte[authorization.Length];
        if (!Convert.TryFromBase64String(authorization[6..].Trim(), bytes, out var length))
        {
            return false;
        }

        string text;
        try
        {
            text = new UTF8Encoding(false, throwOnInvalidBytes: true).GetString(bytes, 0, length);
        }
        catch (DecoderFallbackException)
        {
            return false;
        }
        finally
        {
            CryptographicOperations.ZeroMemory(bytes);
        }

        var colon = text.IndexOf(':');
        if (colon <= 0)
        {
            return false;
        }

        user = text[..colon];
        password = text[(colon + 1)..];
        return PasswordHash.IsValidUser(user);
    }

    private string CacheKey(string user, string password) =>
        Convert.ToBase64String(SHA256.HashData(Encoding.UTF8.GetBytes($"{_users.Version}\0{user}\0{password}")));

    private bool IsCached(string key)
    {
        lock (_lock)
        {
            return _verified.TryGetValue(key, out var expiry) && expiry > Environment.TickCount64;
        }
    }

    private void Remember(string key)
    {
        var now = Environment.TickCount64;
        lock (_lock)
        {
            if (_verified.Count >= MaxCached)
            {
                foreach (var stale in _verified.Where(e => e.Value <= now).Select(e => e.Key).ToList())
                {
                    _verified.Remove(stale);
                }

                if (_verified.Count >= MaxCached)
                {
                    _verified.Clear(); // bounded: worst case is one more PBKDF2 run per user
                }
            }

            _verified[key] = now + (long)CacheFor.TotalMilliseconds;
        }
    }
}
