-- v0 -> v3: Latest revision

-- Session UserNames of a login and the stable ids they stand for. UserNames change at
-- every login, so rows are per login and replaced when a new session starts; they let a
-- restarted bridge resolve senders before WeChat repeats the id list.
CREATE TABLE wechat_identity (
	login_id  TEXT NOT NULL,
	user_name TEXT NOT NULL,
	stable_id TEXT NOT NULL,

	PRIMARY KEY (login_id, user_name)
);

-- Friend requests (MsgType 37) waiting for the accept-friend command. user_name and
-- ticket are what webwxverifyuser takes; user_name is valid only in the session whose
-- own UserName is session_self.
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

-- Matrix messages the appservice acknowledged to the homeserver but the bridge has not
-- handled yet (pendingmatrix.go): a crash in between must not lose them.
CREATE TABLE wechat_pending_matrix (
	event_id    TEXT   NOT NULL PRIMARY KEY,
	room_id     TEXT   NOT NULL,
	received_at BIGINT NOT NULL
);
