using System.CommandLine;
using Gatehouse.Wire;

namespace Gatehouse.Cli;

/// <summary><c>gatehouse pin CERT</c>: prints the key pin in the form <c>curl --pinnedpubkey</c> takes.</summary>
internal static class PinCommand
{
    public static Command Create()
    {
        var file = new Argument<FileInfo>("CERT") { Description = "a PEM (or DER) certificate" };
        var command = new Command("pin", "Print a certificate's key pin (sha256//…), as curl --pinnedpubkey and the config's trust.pins take it.") { file };
        command.SetAction(result =>
        {
            try
            {
                using var certificate = PemFiles.LoadCertificate(result.GetValue(file)!.FullName);
                Console.Out.WriteLine(KeyPin.Compute(certificate));
                return ExitCodes.Ok;
            }
            catch (CertificateFileException ex)
            {
                Console.Error.WriteLine("gatehouse: " + ex.Message);
                return ExitCodes.Usage;
            }
        });
        return command;
    }
}
