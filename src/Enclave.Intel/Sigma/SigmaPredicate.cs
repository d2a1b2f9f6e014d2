namespace Enclave.Intel.Sigma;

/// <summary>A compiled piece of a detection: a field condition, a keyword search, or the condition's boolean logic.</summary>
internal abstract class SigmaPredicate
{
    public abstract bool Matches(SigmaEvent e);

    /// <summary>
    /// Adds the names of the fields this predicate reads to <paramref name="fields"/>; false when it may read any field
    /// (a keyword search), so that a reader must keep them all.
    /// </summary>
    public abstract bool CollectFields(HashSet<string> fields);

    public sealed class Field(string field, IReadOnlyList<SigmaValueTest> tests, bool all, bool negate) : SigmaPredicate
    {
        public override bool Matches(SigmaEvent e)
        {
            e.Fields.TryGetValue(field, out var values);
            var result = all ? tests.All(t => AnyValue(t, values, e)) : tests.Any(t => AnyValue(t, values, e));
            return negate ? !result : result;
        }

        public override bool CollectFields(HashSet<string> fields)
        {
            fields.Add(field);
            foreach (var test in tests)
            {
                test.CollectFields(fields);
            }

            return true;
        }

        private static bool AnyValue(SigmaValueTest test, IReadOnlyList<string?>? values, SigmaEvent e)
        {
            if (values is null)
            {
                return test is SigmaValueTest.NullTest;
            }

            foreach (var value in values)
            {
                if (test.Test(value, e))
                {
                    return true;
                }
            }

            return false;
        }
    }

    public sealed class Exists(string field, bool exists) : SigmaPredicate
    {
        public override bool Matches(SigmaEvent e) => e.Fields.ContainsKey(field) == exists;

        public override bool CollectFields(HashSet<string> fields)
        {
            fields.Add(field);
            return true;
        }
    }

    /// <summary>Keywords: a test passes when any value of any field passes it.</summary>
    public sealed class Keywords(IReadOnlyList<SigmaValueTest> tests, bool all) : SigmaPredicate
    {
        public override bool Matches(SigmaEvent e) => all ? tests.All(t => AnyField(t, e)) : tests.Any(t => AnyField(t, e));

        public override bool CollectFields(HashSet<string> fields) => false;

        private static bool AnyField(SigmaValueTest test, SigmaEvent e)
        {
            foreach (var values in e.Fields.Values)
            {
                foreach (var value in values)
                {
                    if (test.Test(value, e))
                    {
                        return true;
                    }
                }
            }

            return false;
        }
    }

    public sealed class And(IReadOnlyList<SigmaPredicate> parts) : SigmaPredicate
    {
        public override bool Matches(SigmaEvent e) => parts.All(p => p.Matches(e));

        public override bool CollectFields(HashSet<string> fields) => CollectAll(parts, fields);
    }

    public sealed class Or(IReadOnlyList<SigmaPredicate> parts) : SigmaPredicate
    {
        public override bool Matches(SigmaEvent e) => parts.Any(p => p.Matches(e));

        public override bool CollectFields(HashSet<string> fields) => CollectAll(parts, fields);
    }

    public sealed class Not(SigmaPredicate inner) : SigmaPredicate
    {
        public override bool Matches(SigmaEvent e) => !inner.Matches(e);

        public override bool CollectFields(HashSet<string> fields) => inner.CollectFields(fields);
    }

    /// <summary>Holds when the event comes from the log source and the inner predicate holds (a filter's scope).</summary>
    public sealed class FromSource(SigmaLogSource source, SigmaPredicate inner) : SigmaPredicate
    {
        public override bool Matches(SigmaEvent e) => source.Covers(e.LogSource) && inner.Matches(e);

        public override bool CollectFields(HashSet<string> fields) => inner.CollectFields(fields);
    }

    private static bool CollectAll(IReadOnlyList<SigmaPredicate> parts, HashSet<string> fields)
    {
        var every = true;
        foreach (var part in parts)
        {
            every &= part.CollectFields(fields);
        }

        return every;
    }
}
