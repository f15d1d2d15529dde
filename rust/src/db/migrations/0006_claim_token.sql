-- One identity per attempt (issue 12): a token bumped by every claim and never decremented, so
-- that (id, claim_token) names one attempt forever. Every write about an attempt (complete,
-- finalize, fail, release, reconciliation) is fenced on it; `attempts`, which a release or a
-- reconciliation hands back, stays what users see. Not indexed: its updates stay HOT.
ALTER TABLE anclax.tasks ADD COLUMN claim_token bigint NOT NULL DEFAULT 0;
