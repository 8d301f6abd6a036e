-- The table the Java quick start writes with a fencing token (QuickStart runs this on an in-memory H2).
-- region README fencing-table
CREATE TABLE account (
    id      BIGINT PRIMARY KEY,
    balance BIGINT NOT NULL,
    fence   BIGINT NOT NULL DEFAULT 0  -- the highest token that wrote the row; with NULL, "fence <= ?" matches no row
);
-- endregion
INSERT INTO account (id, balance) VALUES (9, 0);
