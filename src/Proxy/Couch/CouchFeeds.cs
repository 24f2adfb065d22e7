namespace Gatehouse.Proxy.Couch;

/// <summary>Which CouchDB answers never end by themselves, so that a stopping gateway ends them (see <see cref="ForwardPlan.IsFeed"/>).</summary>
public static class CouchFeeds
{
    /// <summary>
    /// A <c>_changes</c> request with <c>feed=continuous</c> or <c>feed=eventsource</c>, as judged (the
    /// forwarded query). <c>longpoll</c> and <c>normal</c> answer once, so they are left to finish.
    /// </summary>
    public static bool IsEndless(CouchClassification classification)
    {
        if (!ReferenceEquals(classification.Parameters, CouchParameters.Changes))
        {
            return false;
        }

        var pairs = CouchQuery.Parse(classification.ForwardQuery);
        return pairs is not null && pairs.Exists(pair => pair.Name == "feed" && pair.Value is "continuous" or "eventsource");
    }
}
