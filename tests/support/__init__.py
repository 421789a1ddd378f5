"""What the tests share: the stack they run against, request bodies, answers, polling, fakes."""
