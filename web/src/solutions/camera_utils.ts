/**
 * `@mediapipe/camera_utils` (0.3.1675466862): the webcam into a `<video>` element, and a callback
 * for each new frame, with the same name, signature and defaults.
 *
 * ```js
 * const camera = new Camera(videoElement, {
 *   onFrame: async () => { await pose.send({image: videoElement}); },
 *   width: 1280, height: 720,
 * });
 * camera.start();
 * ```
 *
 * `onFrame` is called once per new video frame (checked on each animation frame); while the
 * promise it returns is pending no other call is made, so a slow `send()` drops frames instead
 * of queueing them. Unlike MediaPipe's, a camera that cannot be opened rejects `start()` with an
 * error saying why (no `alert()`), an `onFrame` that fails is logged and the loop goes on, and
 * `stop()` also ends the frame loop.
 */

/** `new Camera(video, options)`. */
export interface CameraOptions {
  /** Called for each new frame; the next call waits for the promise it returns. */
  onFrame: () => Promise<void> | null;
  /** Which camera: the one facing the user (default) or the other way. */
  facingMode?: "user" | "environment";
  /** Requested frame width in pixels (default 640); the camera may give another. */
  width?: number;
  /** Requested frame height in pixels (default 480). */
  height?: number;
}

/** What `Camera` does (MediaPipe's interface name). */
export interface CameraInterface {
  start(): Promise<void>;
  stop(): Promise<void>;
}

/** `@mediapipe/camera_utils`'s defaults. */
export const DEFAULT_CAMERA = Object.freeze({ facingMode: "user", width: 640, height: 480 });

/** The webcam, played in `video`, calling `onFrame` for each new frame. */
export class Camera implements CameraInterface {
  readonly video: HTMLVideoElement;
  private readonly options: Required<CameraOptions>;
  private stream: MediaStream | null = null;
  private lastTime = -1;
  private running = false;

  constructor(video: HTMLVideoElement, options: CameraOptions) {
    this.video = video;
    this.options = { ...DEFAULT_CAMERA, ...options } as Required<CameraOptions>;
  }

  /**
   * Open the camera and start calling `onFrame`. Rejects when the browser has no camera API
   * (pages must be served over https or from localhost) or the camera cannot be opened
   * (permission denied, no camera, in use).
   */
  async start(): Promise<void> {
    const devices = globalThis.navigator?.mediaDevices;
    if (devices?.getUserMedia === undefined) {
      throw new Error(
        "Camera: this page has no navigator.mediaDevices.getUserMedia; camera access needs a " +
          "secure page (https, or http://localhost / 127.0.0.1)",
      );
    }
    const { facingMode, width, height } = this.options;
    let stream: MediaStream;
    try {
      stream = await devices.getUserMedia({ video: { facingMode, width, height } });
    } catch (error) {
      throw new Error(`Camera: failed to acquire camera feed: ${String(error)}`);
    }
    await this.stop();
    this.stream = stream;
    this.running = true;
    this.lastTime = -1;
    this.video.srcObject = stream;
    this.video.onloadedmetadata = () => {
      this.video.play().catch((error: unknown) => console.error("Camera: cannot play", error));
      this.schedule();
    };
  }

  /** Stop the camera's tracks and the frame loop. */
  async stop(): Promise<void> {
    this.running = false;
    if (this.stream !== null) {
      for (const track of this.stream.getTracks()) track.stop();
      this.stream = null;
    }
  }

  private schedule(): void {
    if (this.running) requestAnimationFrame(() => this.tick());
  }

  private tick(): void {
    if (!this.running) return;
    const video = this.video;
    let pending: Promise<void> | null = null;
    if (!video.paused && video.currentTime !== this.lastTime) {
      this.lastTime = video.currentTime;
      pending = this.options.onFrame();
    }
    if (pending) {
      pending.then(
        () => this.schedule(),
        (error: unknown) => {
          console.error("Camera: onFrame failed", error);
          this.schedule();
        },
      );
    } else {
      this.schedule();
    }
  }
}
