-- v2 -> v3: Matrix messages taken from the homeserver but not yet handled

CREATE TABLE wechat_pending_matrix (
	event_id    TEXT   NOT NULL PRIMARY KEY,
	room_id     TEXT   NOT NULL,
	received_at BIGINT NOT NULL
);
