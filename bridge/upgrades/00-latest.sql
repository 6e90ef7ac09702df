-- v0 -> v2: Latest revision

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
