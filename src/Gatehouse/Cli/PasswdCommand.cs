using System.CommandLine;
using System.Text;
using Gatehouse.Front;

namespace Gatehouse.Cli;

/// <summary>
/// <c>gatehouse passwd FILE USER</c> (issue 5): adds or replaces USER in a proxy route's users
/// file with a salted PBKDF2-SHA256 hash. The password comes from stdin (never argv, which other
/// users can read in the process list); the file is replaced atomically and readable by the owner only.
/// </summary>
internal static class PasswdCommand
{
    public static Command Create()
    {
        var file = new Argument<FileInfo>("FILE") { Description = "the users file (created if missing), as named by a route's access.usersFile" };
        var user = new Argument<string>("USER") { Description = "the user name (no ':')" };
        var command = new Command("passwd", "Set a user's password in a users file for HTTP Basic on proxy routes; the password is read from stdin.") { file, user };
        command.SetAction(result => Run(result.GetValue(file)!.FullName, result.GetValue(user)!));
        return command;
    }

    private static int Run(string path, string user)
    {
        if (!PasswordHash.IsValidUser(user))
        {
            Console.Error.WriteLine("gatehouse: USER must be 1-128 characters without ':', controls or surrounding spaces");
            return ExitCodes.Usage;
        }

        var password = ReadPassword();
        if (string.IsNullOrEmpty(password))
        {
            Console.Error.WriteLine("gatehouse: no password on stdin");
            return ExitCodes.Usage;
        }

        try
        {
            var lines = File.Exists(path) ? File.ReadAllLines(path).ToList() : ["# gatehouse users: name:pbkdf2-sha256:iterations:salt:hash (gatehouse passwd FILE USER)"];
            var line = PasswordHash.Create(user, password).ToString();
            var index = lines.FindIndex(l => l.StartsWith(user + ":", StringComparison.Ordinal));
            if (index >= 0)
            {
                lines[index] = line;
            }
            else
            {
                lines.Add(line);
            }

            WriteAtomically(path, string.Join('\n', lines) + "\n");
            Console.Error.WriteLine($"gatehouse: {(index >= 0 ? "updated" : "added")} {user} in {path}");
            return ExitCodes.Ok;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            Console.Error.WriteLine($"gatehouse: {path}: {ex.Message}");
            return ExitCodes.Failure;
        }
    }

    /// <summary>The first line of stdin; from a terminal, typed without echo.</summary>
    private static string? ReadPassword()
    {
        if (Console.IsInputRedirected)
        {
            return Console.In.ReadLine();
        }

        Console.Error.Write("password: ");
        var typed = new StringBuilder();
        while (true)
        {
            var key = Console.ReadKey(intercept: true);
            if (key.Key == ConsoleKey.Enter)
            {
                Console.Error.WriteLine();
                return typed.ToString();
            }

            if (key.Key == ConsoleKey.Backspace)
            {
                typed.Length = Math.Max(0, typed.Length - 1);
            }
            else if (!char.IsControl(key.KeyChar))
            {
                typed.Append(key.KeyChar);
            }
        }
    }

    private static void WriteAtomically(string path, string text)
    {
        var temp = path + ".tmp-" + Environment.ProcessId;
        var options = new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write };
        if (!OperatingSystem.IsWindows())
        {
            options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
        }

        try
        {
            using (var stream = new FileStream(temp, options))
            {
                stream.Write(Encoding.UTF8.GetBytes(text));
                stream.Flush(flushToDisk: true);
            }

            File.Move(temp, path, overwrite: true);
        }
        finally
        {
            File.Delete(temp);
        }
    }
}
