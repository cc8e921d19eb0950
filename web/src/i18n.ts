// A small i18n module: English and Bahasa Indonesia, {name} placeholders.

export type Lang = "en" | "id";

const en = {
  "app.name": "Kabar",
  "auth.signIn": "Sign in",
  "auth.register": "Create account",
  "auth.username": "Username",
  "auth.password": "Password",
  "auth.confirmPassword": "Confirm password",
  "auth.token": "Registration token",
  "auth.tokenHint": "This server asks for a registration token.",
  "auth.homeserver": "Homeserver",
  "auth.change": "Change",
  "auth.useServer": "Use this server",
  "auth.useDefault": "Use this site's server",
  "auth.checking": "Checking the server…",
  "auth.busy": "Please wait…",
  "auth.noAccount": "New here?",
  "auth.haveAccount": "Already have an account?",
  "auth.tagline": "Chat on Matrix",
  "auth.registrationClosed": "This server does not allow new accounts.",
  "auth.unsupportedFlows": "This server needs sign-in steps this client can't do yet: {stages}.",
  "auth.noPasswordLogin": "This server doesn't offer password sign-in.",
  "validate.usernameRequired": "Enter a username.",
  "validate.usernameChars": "Usernames may only use a-z, 0-9 and . _ = - / +",
  "validate.usernameLong": "That username is too long.",
  "validate.passwordRequired": "Enter a password.",
  "validate.passwordShort": "Use at least {min} characters.",
  "validate.passwordMismatch": "The passwords don't match.",
  "validate.tokenRequired": "Enter the registration token.",
  "validate.homeserverRequired": "Enter a homeserver address.",
  "validate.homeserverInvalid": "That doesn't look like a server address.",
  "error.network": "Couldn't reach the server. Check the address and your connection.",
  "error.discovery": "Couldn't find a Matrix homeserver at {server}.",
  "error.M_FORBIDDEN": "The server refused this request.",
  "error.M_FORBIDDEN.login": "Wrong username or password.",
  "error.M_FORBIDDEN.register": "The server refused to create the account.",
  "error.M_UNAUTHORIZED.register": "That registration token isn't valid.",
  "error.M_USER_IN_USE": "That username is taken. Try another.",
  "error.M_INVALID_USERNAME": "That username isn't allowed.",
  "error.M_EXCLUSIVE": "That username is reserved.",
  "error.M_WEAK_PASSWORD": "Choose a stronger password.",
  "error.M_LIMIT_EXCEEDED": "Too many attempts. Try again in {seconds} s.",
  "error.M_USER_DEACTIVATED": "This account has been deactivated.",
  "error.M_UNRECOGNIZED": "This server doesn't support that yet.",
  "error.M_UNKNOWN_TOKEN": "Your session has ended. Please sign in again.",
  "error.M_MISSING_TOKEN": "Your session has ended. Please sign in again.",
  "error.M_TOO_LARGE": "That's too large for the server.",
  "error.M_BAD_JSON": "The server couldn't read the request.",
  "error.M_NOT_JSON": "The server couldn't read the request.",
  "error.M_INVALID_PARAM": "Something in the form isn't accepted by the server.",
  "error.unknown": "Something went wrong ({code}).",
  "main.rooms": "Rooms",
  "main.roomList": "Room list",
  "main.noRooms": "No rooms yet",
  "main.noRoomsHint": "When you join or are invited to a room, it shows up here.",
  "main.pickRoom": "Pick a room to start chatting",
  "main.welcome": "Welcome, {name}",
  "main.settings": "Settings",
  "main.signOut": "Sign out",
  "main.back": "Back to rooms",
  "main.connecting": "Connecting…",
  "main.syncError": "Can't sync with the server right now; retrying. ({detail})",
  "main.offline": "Offline — retrying…",
  "main.cryptoUnavailable": "Encryption isn't available in this browser session.",
  "main.unread": "{count} unread",
  "main.mentions": "{count} mentions",
  "timeline.label": "Messages in {room}",
  "timeline.empty": "No messages yet. Say hello!",
  "timeline.encrypted": "Encrypted message",
  "timeline.unsupported": "Unsupported event ({type})",
  "composer.placeholder": "Message {room}",
  "composer.label": "Write a message",
  "composer.send": "Send",
  "composer.failed": "Message not sent: {error}",
  "settings.title": "Settings",
  "settings.profile": "Profile",
  "settings.displayName": "Display name",
  "settings.save": "Save",
  "settings.saved": "Saved.",
  "settings.language": "Language",
  "settings.userId": "Matrix ID",
  "settings.device": "This device",
  "settings.close": "Close settings",
} as const;

export type MessageKey = keyof typeof en;

const id: Record<MessageKey, string> = {
  "app.name": "Kabar",
  "auth.signIn": "Masuk",
  "auth.register": "Buat akun",
  "auth.username": "Nama pengguna",
  "auth.password": "Kata sandi",
  "auth.confirmPassword": "Ulangi kata sandi",
  "auth.token": "Token pendaftaran",
  "auth.tokenHint": "Server ini meminta token pendaftaran.",
  "auth.homeserver": "Homeserver",
  "auth.change": "Ganti",
  "auth.useServer": "Pakai server ini",
  "auth.useDefault": "Pakai server situs ini",
  "auth.checking": "Memeriksa server…",
  "auth.busy": "Mohon tunggu…",
  "auth.noAccount": "Baru di sini?",
  "auth.haveAccount": "Sudah punya akun?",
  "auth.tagline": "Mengobrol di Matrix",
  "auth.registrationClosed": "Server ini tidak menerima akun baru.",
  "auth.unsupportedFlows": "Server ini memerlukan langkah masuk yang belum didukung: {stages}.",
  "auth.noPasswordLogin": "Server ini tidak menyediakan masuk dengan kata sandi.",
  "validate.usernameRequired": "Masukkan nama pengguna.",
  "validate.usernameChars": "Nama pengguna hanya boleh memakai a-z, 0-9 dan . _ = - / +",
  "validate.usernameLong": "Nama pengguna terlalu panjang.",
  "validate.passwordRequired": "Masukkan kata sandi.",
  "validate.passwordShort": "Pakai minimal {min} karakter.",
  "validate.passwordMismatch": "Kata sandi tidak sama.",
  "validate.tokenRequired": "Masukkan token pendaftaran.",
  "validate.homeserverRequired": "Masukkan alamat homeserver.",
  "validate.homeserverInvalid": "Itu tidak tampak seperti alamat server.",
  "error.network": "Tidak dapat menghubungi server. Periksa alamat dan koneksi Anda.",
  "error.discovery": "Tidak menemukan homeserver Matrix di {server}.",
  "error.M_FORBIDDEN": "Server menolak permintaan ini.",
  "error.M_FORBIDDEN.login": "Nama pengguna atau kata sandi salah.",
  "error.M_FORBIDDEN.register": "Server menolak membuat akun.",
  "error.M_UNAUTHORIZED.register": "Token pendaftaran itu tidak berlaku.",
  "error.M_USER_IN_USE": "Nama pengguna itu sudah dipakai. Coba yang lain.",
  "error.M_INVALID_USERNAME": "Nama pengguna itu tidak diizinkan.",
  "error.M_EXCLUSIVE": "Nama pengguna itu dicadangkan.",
  "error.M_WEAK_PASSWORD": "Pilih kata sandi yang lebih kuat.",
  "error.M_LIMIT_EXCEEDED": "Terlalu banyak percobaan. Coba lagi dalam {seconds} detik.",
  "error.M_USER_DEACTIVATED": "Akun ini telah dinonaktifkan.",
  "error.M_UNRECOGNIZED": "Server ini belum mendukung fitur itu.",
  "error.M_UNKNOWN_TOKEN": "Sesi Anda telah berakhir. Silakan masuk lagi.",
  "error.M_MISSING_TOKEN": "Sesi Anda telah berakhir. Silakan masuk lagi.",
  "error.M_TOO_LARGE": "Terlalu besar untuk server.",
  "error.M_BAD_JSON": "Server tidak dapat membaca permintaan.",
  "error.M_NOT_JSON": "Server tidak dapat membaca permintaan.",
  "error.M_INVALID_PARAM": "Ada isian yang tidak diterima server.",
  "error.unknown": "Terjadi kesalahan ({code}).",
  "main.rooms": "Ruang",
  "main.roomList": "Daftar ruang",
  "main.noRooms": "Belum ada ruang",
  "main.noRoomsHint": "Ruang yang Anda ikuti atau undangan yang Anda terima akan muncul di sini.",
  "main.pickRoom": "Pilih ruang untuk mulai mengobrol",
  "main.welcome": "Selamat datang, {name}",
  "main.settings": "Pengaturan",
  "main.signOut": "Keluar",
  "main.back": "Kembali ke daftar ruang",
  "main.connecting": "Menyambungkan…",
  "main.syncError": "Belum dapat sinkron dengan server; mencoba lagi. ({detail})",
  "main.offline": "Luring — mencoba lagi…",
  "main.cryptoUnavailable": "Enkripsi tidak tersedia di sesi peramban ini.",
  "main.unread": "{count} belum dibaca",
  "main.mentions": "{count} sebutan",
  "timeline.label": "Pesan di {room}",
  "timeline.empty": "Belum ada pesan. Sapa dulu!",
  "timeline.encrypted": "Pesan terenkripsi",
  "timeline.unsupported": "Peristiwa tidak didukung ({type})",
  "composer.placeholder": "Kirim pesan ke {room}",
  "composer.label": "Tulis pesan",
  "composer.send": "Kirim",
  "composer.failed": "Pesan tidak terkirim: {error}",
  "settings.title": "Pengaturan",
  "settings.profile": "Profil",
  "settings.displayName": "Nama tampilan",
  "settings.save": "Simpan",
  "settings.saved": "Tersimpan.",
  "settings.language": "Bahasa",
  "settings.userId": "ID Matrix",
  "settings.device": "Perangkat ini",
  "settings.close": "Tutup pengaturan",
};

export const messages: Record<Lang, Record<MessageKey, string>> = { en, id };

export const languages: { code: Lang; name: string }[] = [
  { code: "en", name: "English" },
  { code: "id", name: "Bahasa Indonesia" },
];

/** pickLang chooses a stored choice first, then the browser's languages. */
export function pickLang(stored: string | null, browser: readonly string[]): Lang {
  if (stored === "en" || stored === "id") return stored;
  for (const tag of browser) {
    const base = tag.toLowerCase().split("-")[0];
    if (base === "id" || base === "in" || base === "ms") return "id";
    if (base === "en") return "en";
  }
  return "en";
}

export type Vars = Record<string, string | number>;

/** format fills {name} placeholders; unknown ones stay visible. */
export function format(template: string, vars?: Vars): string {
  if (!vars) return template;
  return template.replace(/\{(\w+)\}/g, (m, k: string) => (k in vars ? String(vars[k]) : m));
}

export type Translate = (key: MessageKey, vars?: Vars) => string;

export function translator(lang: Lang): Translate {
  const table = messages[lang];
  return (key, vars) => format(table[key] ?? en[key] ?? key, vars);
}

/** hasKey lets callers build keys dynamically (errcodes) with a fallback. */
export function hasKey(key: string): key is MessageKey {
  return key in en;
}
