-- v1 -> v2: Pending friend requests

CREATE TABLE wechat_friend_request (
	login_id     TEXT   NOT NULL,
	request_id   TEXT   NOT NULL,
	session_self TEXT   NOT NULL,
	user_name    TEXT   NOT NULL,
	ticket       TEXT   NOT NULL,
	wxid         TEXT   NOT NULL DEFAULT '',
	nickname     TEXT   NOT NULL DEFAULT '',
	alias        TEXT   NOT NULL DEFAULT '',
	received_at  BIGINT NOT NULL,

	PRIMARY KEY (login_id, request_id)
);
