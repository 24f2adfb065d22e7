using System.Globalization;
using System.Security.Cryptography;
using System.Text;

namespace Gatehouse.Front;

/// <summary>
/// One users-file line: <c>name:pbkdf2-sha256:iterations:base64salt:base64hash</c> (issue 5).
/// PBKDF2-SHA256 with at least <see cref="MinIterations"/> rounds (OWASP's 2023 figure), a random
/// 16-byte salt and a 32-byte hash; compared in constant time.
/// </summary>
internal sealed record PasswordHash(string User, int Iterations, byte[] Salt, byte[] Hash)
{
    public const string Algorithm = "pbkdf2-sha256";
    public const int MinIterations = 600_000;
    private const int SaltBytes = 16;
    private const int HashBytes = 32;

    public static PasswordHash Create(string user, string password, int iterations = MinIterations)
    {
        var salt = RandomNumberGenerator.GetBytes(SaltBytes);
        return new PasswordHash(user, iterations, salt, Derive(password, salt, iterations));
    }

    public bool Verify(string password) => CryptographicOperations.FixedTimeEquals(Derive(password, Salt, Iterations), Hash);

    /// <summary>The line as written to the users file.</summary>
    public override string ToString() =>
        string.Join(':', User, Algorithm, Iterations.ToString(CultureInfo.InvariantCulture), Convert.ToBase64String(Salt), Convert.ToBase64String(Hash));

    /// <exception cref="FormatException">With a message that never repeats the hash.</exception>
    public static PasswordHash Parse(string line)
    {
        var parts = line.Split(':');
        if (parts.Length != 5 || !IsValidUser(parts[0]))
        {
            throw new FormatException("expected name:pbkdf2-sha256:iterations:base64salt:base64hash");
        }

        if (parts[1] != Algorithm)
        {
            throw new FormatException($"unknown algorithm \"{parts[1]}\" (only {Algorithm})");
        }

        if (!int.TryParse(parts[2], NumberStyles.None, CultureInfo.InvariantCulture, out var iterations) || iterations < MinIterations)
        {
            throw new FormatException($"iterations must be a number of at least {MinIterations}");
        }

        try
        {
            var salt = Convert.FromBase64String(parts[3]);
            var hash = Convert.FromBase64String(parts[4]);
            if (salt.Length < SaltBytes || hash.Length != HashBytes)
            {
                throw new FormatException($"salt must be at least {SaltBytes} bytes and the hash {HashBytes}");
            }

            return new PasswordHash(parts[0], iterations, salt, hash);
        }
        catch (FormatException ex) when (ex.Message.StartsWith("The input", StringComparison.Ordinal))
        {
            throw new FormatException("salt or hash is not base64");
        }
    }

    /// <summary>A user name goes before ':' in Basic credentials and in the file: no ':', no controls, not empty.</summary>
    public static bool IsValidUser(string user) =>
        user.Length is > 0 and <= 128 && !user.Contains(':') && !user.Any(char.IsControl) && user.Trim() == user;

    private static byte[] Derive(string password, byte[] salt, int iterations) =>
        Rfc2898DeriveBytes.Pbkdf2(Encoding.UTF8.GetBytes(password), salt, iterations, HashAlgorithmName.SHA256, HashBytes);
}
