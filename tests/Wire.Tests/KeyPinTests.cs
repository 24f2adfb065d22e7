using Gatehouse.Wire;

namespace Gatehouse.Wire.Tests;

[Collection(PkiCollection.Name)]
public sealed class KeyPinTests(TestPki pki)
{
    [Fact]
    public void PinEqualsWhatOpensslPrintsForCurl()
    {
        using var dir = new TempDir();
        PemFiles.WriteCertificate(dir.File("c.pem"), pki.CaClient);

        string expected = Openssl.Shell(
            "openssl x509 -in c.pem -pubkey -noout | openssl pkey -pubin -outform der | openssl dgst -sha256 -binary | base64",
            dir.Path).Trim();

        Assert.Equal("sha256//" + expected, KeyPin.Compute(pki.CaClient));
    }

    [Fact]
    public void ComputedPinsAreWellFormed() => Assert.True(KeyPin.IsWellFormed(KeyPin.Compute(pki.Server)));

    [Theory]
    [InlineData("")]
    [InlineData("sha256//")]
    [InlineData("sha1//AAAAAAAAAAAAAAAAAAAAAAAAAAA=")]
    [InlineData("SHA256//47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=")]
    [InlineData("sha256//47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuF")]
    [InlineData("sha256//47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=x")]
    [InlineData("sha256//AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA")]
    [InlineData("sha256//!!!DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=")]
    public void RejectsMalformedPins(string pin) => Assert.False(KeyPin.IsWellFormed(pin));

    [Fact]
    public void AcceptsThePinOfTheEmptyString() => Assert.True(KeyPin.IsWellFormed("sha256//47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU="));
}
