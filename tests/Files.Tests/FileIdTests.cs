namespace Gatehouse.Files.Tests;

public sealed class FileIdTests
{
    private const string Good = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

    [Fact]
    public void AcceptsSixtyFourLowercaseHex() => Assert.True(FileId.IsValid(Good));

    [Theory]
    [InlineData("")]
    [InlineData("E3B0C44298FC1C149AFBF4C8996FB92427AE41E4649B934CA495991B7852B855")]
    [InlineData("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b85")]
    [InlineData("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b8555")]
    [InlineData("g3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")]
    [InlineData("../../../../etc/passwd")]
    [InlineData("..%2f..%2fe3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca4959")]
    [InlineData("e3/0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")]
    [InlineData("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b85 ")]
    [InlineData("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b85\0")]
    [InlineData("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b8５")]
    public void RefusesAnythingElse(string id) => Assert.False(FileId.IsValid(id));

    [Fact]
    public void RefusesNull() => Assert.False(FileId.IsValid(null));
}
