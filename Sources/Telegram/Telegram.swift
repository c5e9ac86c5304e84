/// Namespace for the Telegram module.
public enum Telegram {}
