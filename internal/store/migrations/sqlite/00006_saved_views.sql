-- +goose Up
-- Saved inbox views: a name and the search page's filters as a query
-- string, private to their author or shared with one team.
CREATE TABLE saved_views (
    id         INTEGER PRIMARY KEY,
    name       TEXT NOT NULL,
    agent_id   INTEGER NOT NULL REFERENCES agents(id) ON DELETE CASCADE,
    team_id    INTEGER REFERENCES teams(id) ON DELETE CASCADE,
    query      TEXT NOT NULL,
    created_at DATETIME NOT NULL
);
CREATE INDEX saved_views_agent ON saved_views(agent_id);
CREATE INDEX saved_views_team ON saved_views(team_id);

-- +goose Down
DROP TABLE saved_views;
