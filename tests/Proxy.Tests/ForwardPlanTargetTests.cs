using System.Text;
using Gatehouse.Http1;

namespace Gatehouse.Proxy.Tests;

/// <summary>
/// A connection's plan keeps the last origin form it made (issue 9): reused only for the very same
/// (immutable) target object and the same number of segments left out, made afresh otherwise.
/// </summary>
public sealed class ForwardPlanTargetTests
{
    private static CanonicalTarget Parse(string target) => CanonicalTarget.Parse(Encoding.ASCII.GetBytes(target));

    [Fact]
    public void SameTargetObjectAndSkipReuseTheText()
    {
        var plan = new ForwardPlan();
        var target = Parse("/db/doc%2Fa?rev=1");
        plan.TargetFrom(target, 1);
        var first = plan.Target;
        plan.TargetFrom(target, 1);

        Assert.Equal("/doc%2Fa?rev=1", first);
        Assert.Same(first, plan.Target);
    }

    [Fact]
    public void AnotherSkipOrAnotherTargetIsMadeAfresh()
    {
        var plan = new ForwardPlan();
        var target = Parse("/db/doc");
        plan.TargetFrom(target, 1);
        Assert.Equal("/doc", plan.Target);

        plan.TargetFrom(target, 0);
        Assert.Equal("/db/doc", plan.Target);

        plan.TargetFrom(Parse("/db/other"), 0);
        Assert.Equal("/db/other", plan.Target);

        // An equal target that is another object is not taken on trust either: same text, made again.
        var before = plan.Target;
        plan.TargetFrom(Parse("/db/other"), 0);
        Assert.Equal("/db/other", plan.Target);
        Assert.NotSame(before, plan.Target);
    }
}
