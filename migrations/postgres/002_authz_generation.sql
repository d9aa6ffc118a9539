-- chargegate cluster schema, version 2: a counter bumped in the same transaction as every ACL or
-- station change. Workers read it before each batch of decisions and empty their decision caches
-- when it moved, so a change acknowledged by any instance reaches every worker's next decision.
CREATE TABLE authz_state (
    id          smallint PRIMARY KEY CHECK (id = 1),
    generation  bigint   NOT NULL
);
INSERT INTO authz_state (id, generation) VALUES (1, 0);
