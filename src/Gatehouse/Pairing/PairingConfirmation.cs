using System.Text;

namespace Gatehouse.Pairing;

/// <summary>
/// Asks the person at this device about the code: with <c>--code</c>, the code typed in advance must
/// match (constant time); otherwise a line on stdin: "yes", or the six digits the other device
/// shows (then they must match, which is the stronger check: the person cannot just nod). End of
/// input, a timeout or anything else is a no. Prints the code either way, so both screens can be compared.
/// </summary>
internal sealed class PairingConfirmation
{
    private readonly string? _expected;

    public PairingConfirmation(string? expected)
    {
        _expected = expected;
    }

    /// <summary>Whether the code has been shown: from then on a failure ends the run instead of waiting for another attempt.</summary>
    public bool CodeShown { get; private set; }

    public async Task<bool> AskAsync(string code, CancellationToken cancellationToken)
    {
        CodeShown = true;
        var display = PairingCode.Display(code);
        if (_expected is not null)
        {
            Console.Out.WriteLine($"pair: code {display} — checking it against --code");
            var matches = PairingCode.Matches(_expected, code);
            if (!matches)
            {
                await Console.Error.WriteLineAsync($"gatehouse pair: the code here is not the one given with --code").ConfigureAwait(false);
            }

            return matches;
        }

        Console.Out.WriteLine($"pair: code {display} — does the other device show the same? (yes/no, or type its code)");
        // Console streams ignore cancellation once a read is blocked: race it against the deadline instead.
        var reader = new StreamReader(Console.OpenStandardInput(), new UTF8Encoding(false), detectEncodingFromByteOrderMarks: false, bufferSize: 1);
        string? answer;
        do
        {
            // A bare Enter (or the newline after an --env-stdin object) is no answer yet.
            var line = reader.ReadLineAsync(CancellationToken.None).AsTask();
            await Task.WhenAny(line, Task.Delay(Timeout.Infinite, cancellationToken)).ConfigureAwait(false);
            cancellationToken.ThrowIfCancellationRequested();
            answer = (await line.ConfigureAwait(false))?.Trim();
        }
        while (answer is { Length: 0 });

        answer ??= string.Empty;
        if (string.Equals(answer, "yes", StringComparison.OrdinalIgnoreCase))
        {
            return true;
        }

        if (answer.Length > 0 && answer.All(c => char.IsAsciiDigit(c) || c == ' '))
        {
            var matches = PairingCode.Matches(answer, code);
            if (!matches)
            {
                await Console.Error.WriteLineAsync("gatehouse pair: that is not the code shown here").ConfigureAwait(false);
            }

            return matches;
        }

        return false;
    }
}
