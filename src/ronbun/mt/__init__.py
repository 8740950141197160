"""Paper 1's workflow: translation training (:mod:`.task`) and translating with a trained model
(:mod:`.translator`)."""
